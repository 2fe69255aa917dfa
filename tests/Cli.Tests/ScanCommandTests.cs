using System.Text.Json;
using System.Text.RegularExpressions;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary>
/// <c>statedict scan FILE… [--json] [-v]</c>: exit 0 when every file is clean, 3 when any is unsafe, 1 when any is
/// unreadable and none unsafe; one summary line per file (details indented under it); the JSON shape; -v for the
/// allowed globals too. A scan reports on stdout whatever it finds, so stderr stays empty and no stack trace ever shows.
/// </summary>
public partial class ScanCommandTests
{
    private static readonly string[] RiskNames = ["allowed", "code_execution", "file_or_network", "unknown_class"];

    [Fact]
    public void A_clean_checkpoint_exits_0_with_one_clean_line()
    {
        string path = Fixtures.PathOf("mlp.pth");

        var result = CliRun.Run("scan", path);

        CliRun.Succeeded(result);
        Assert.Equal([$"{path}: clean (zip; 1 pickle, 3 globals, all allowed)"], Lines(result.Stdout));
    }

    [Theory]
    [InlineData("legacy_mlp.pth", "legacy")]
    [InlineData("scripted_mlp.pt", "torchscript")]
    [InlineData("state_dict.pkl", "pickle")]
    [InlineData("protocol4.pth", "zip")]
    public void Every_format_scans_clean(string name, string format)
    {
        string path = Fixtures.PathOf(name);

        var result = CliRun.Run("scan", path);

        CliRun.Succeeded(result);
        var line = Assert.Single(Lines(result.Stdout));
        Assert.StartsWith($"{path}: clean ({format}; ", line, StringComparison.Ordinal);
        Assert.EndsWith(", all allowed)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_calling_os_system_exits_3_naming_posix_system_with_its_risk_and_place()
    {
        string path = Fixtures.PathOf("malicious_os_system.pth");

        var result = CliRun.Run("scan", path);

        AssertNoTrace(result);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Stderr);
        var lines = Lines(result.Stdout);
        Assert.Equal($"{path}: UNSAFE (zip; 1 pickle, 4 globals; 1 unsafe global: posix.system)", lines[0]);
        Assert.Single(Summaries(lines));
        Assert.Contains(lines, l => l.StartsWith("  malicious_os_system/data.pkl (protocol 2; would call: ", StringComparison.Ordinal) && l.Contains("REDUCE x", StringComparison.Ordinal));
        var row = Assert.Single(lines, l => l.Contains("posix.system", StringComparison.Ordinal) && l.StartsWith("    ", StringComparison.Ordinal));
        Assert.Matches(@"UNSAFE: code execution\s+posix\.system\s+byte \d+\s+operating-system calls", row);
        // Allowed globals are listed only with -v.
        Assert.DoesNotContain("_rebuild_tensor_v2", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Verbose_lists_the_allowed_globals_too()
    {
        string path = Fixtures.PathOf("mlp.pth");

        foreach (string flag in new[] { "-v", "--verbose" })
        {
            var result = CliRun.Run("scan", path, flag);

            CliRun.Succeeded(result);
            var lines = Lines(result.Stdout);
            Assert.Equal($"{path}: clean (zip; 1 pickle, 3 globals, all allowed)", lines[0]);
            Assert.Contains(lines, l => l.StartsWith("  mlp/data.pkl (protocol 2; would call: ", StringComparison.Ordinal));
            foreach (string global in new[] { "torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "collections.OrderedDict" })
            {
                Assert.Contains(lines, l => Regex.IsMatch(l, $@"^\s+allowed\s+{Regex.Escape(global)}\s+byte \d+\s+on the allow-list"));
            }
        }
    }

    [Fact]
    public void Verbose_on_an_unsafe_file_lists_allowed_and_unsafe_globals()
    {
        var result = CliRun.Run("scan", Fixtures.PathOf("malicious_os_system.pth"), "-v");

        Assert.Equal(3, result.ExitCode);
        Assert.Matches(@"(?m)^\s+allowed\s+torch\._utils\._rebuild_tensor_v2\s", result.Stdout);
        Assert.Matches(@"(?m)^\s+UNSAFE: code execution\s+posix\.system\s", result.Stdout);
        AssertNoTrace(result);
    }

    [Fact]
    public void An_unreadable_file_exits_1_with_one_line_on_stdout()
    {
        using var temp = new TempDirectory();
        string path = temp.File("random.pth");
        var bytes = new byte[2048];
        new Random(5).NextBytes(bytes);
        bytes[0] = (byte)'x';
        File.WriteAllBytes(path, bytes);

        var result = CliRun.Run("scan", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stderr);
        Assert.Equal([$"{path}: unreadable: not a PyTorch checkpoint, pickle or safetensors file"], Lines(result.Stdout));
        AssertNoTrace(result);
    }

    [Theory]
    [InlineData("mlp.pth", 30)]
    [InlineData("mlp.pth", -1)]
    [InlineData("legacy_mlp.pth", 200)]
    [InlineData("state_dict.pkl", 100)]
    public void A_truncated_file_exits_1_naming_it(string name, int length)
    {
        using var temp = new TempDirectory();
        var bytes = File.ReadAllBytes(Fixtures.PathOf(name));
        string path = temp.File("cut_" + name);
        File.WriteAllBytes(path, bytes[..(length >= 0 ? length : bytes.Length + length)]);

        var result = CliRun.Run("scan", path);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(Lines(result.Stdout));
        Assert.StartsWith($"{path}: unreadable: ", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Fact]
    public void A_missing_file_and_an_empty_file_exit_1()
    {
        using var temp = new TempDirectory();
        string missing = temp.File("missing.pth");
        string empty = temp.File("empty.pth");
        File.WriteAllBytes(empty, []);

        var result = CliRun.Run("scan", missing, empty);

        Assert.Equal(1, result.ExitCode);
        var lines = Lines(result.Stdout);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"{missing}: unreadable: ", lines[0], StringComparison.Ordinal);
        Assert.Equal($"{empty}: unreadable: the file is empty", lines[1]);
        AssertNoTrace(result);
    }

    [Fact]
    public void One_unsafe_file_among_several_makes_the_exit_3_and_every_file_gets_its_line_in_order()
    {
        using var temp = new TempDirectory();
        string garbage = temp.File("garbage.bin");
        File.WriteAllBytes(garbage, "hello, world\n"u8.ToArray());
        string[] files = [Fixtures.PathOf("mlp.pth"), garbage, Fixtures.PathOf("malicious/eval_legacy.pth"), Fixtures.PathOf("legacy_views.pth")];

        var result = CliRun.Run(["scan", .. files]);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Stderr);
        var summaries = Summaries(Lines(result.Stdout));
        Assert.Equal(files.Length, summaries.Count);
        for (int i = 0; i < files.Length; i++)
        {
            Assert.StartsWith(files[i] + ": ", summaries[i], StringComparison.Ordinal);
        }
        Assert.StartsWith($"{files[0]}: clean ", summaries[0], StringComparison.Ordinal);
        Assert.StartsWith($"{files[1]}: unreadable: ", summaries[1], StringComparison.Ordinal);
        Assert.Equal($"{files[2]}: UNSAFE (legacy; 5 pickles, 4 globals; 1 unsafe global: builtins.eval)", summaries[2]);
        Assert.StartsWith($"{files[3]}: clean (legacy; ", summaries[3], StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Fact]
    public void Clean_and_unreadable_files_together_exit_1()
    {
        using var temp = new TempDirectory();
        string garbage = temp.File("garbage.bin");
        File.WriteAllBytes(garbage, [0xDE, 0xAD, 0xBE, 0xEF]);

        var result = CliRun.Run("scan", Fixtures.PathOf("mlp.pth"), garbage, Fixtures.PathOf("views.pth"));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(3, Summaries(Lines(result.Stdout)).Count);
        AssertNoTrace(result);
    }

    [Fact]
    public void Several_clean_files_exit_0_with_one_line_each()
    {
        string[] names = ["mlp.pth", "legacy_mlp.pth", "views.pth", "checkpoint.pth", "scripted_mlp.pt", "state_dict.pkl"];

        var result = CliRun.Run(["scan", .. names.Select(Fixtures.PathOf)]);

        CliRun.Succeeded(result);
        var lines = Lines(result.Stdout);
        Assert.Equal(names.Length, lines.Length);
        Assert.All(lines.Zip(names), pair => Assert.StartsWith($"{Fixtures.PathOf(pair.Second)}: clean (", pair.First, StringComparison.Ordinal));
    }

    [Fact]
    public void The_whole_malicious_catalogue_exits_3_with_each_file_unsafe_naming_its_global()
    {
        var files = Directory.GetFiles(Fixtures.PathOf("malicious"), "*.expected.json").Order(StringComparer.Ordinal)
            .Select(p => "malicious/" + Path.GetFileName(p)[..^".expected.json".Length]).ToList();
        Assert.True(files.Count >= 57, $"{files.Count} files in the catalogue");

        var result = CliRun.Run(["scan", .. files.Select(Fixtures.PathOf)]);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Stderr);
        var summaries = Summaries(Lines(result.Stdout));
        Assert.Equal(files.Count, summaries.Count);
        foreach (var (file, summary) in files.Zip(summaries))
        {
            string forbidden = Fixtures.ExpectedFor(file).ForbiddenGlobal!;
            Assert.StartsWith($"{Fixtures.PathOf(file)}: UNSAFE (", summary, StringComparison.Ordinal);
            Assert.Matches($@"unsafe globals?: (.*, )?{Regex.Escape(forbidden)}(, .*)?\)$", summary);
        }
        AssertNoTrace(result);
    }

    [Fact]
    public void Json_has_the_documented_shape()
    {
        using var temp = new TempDirectory();
        string garbage = temp.File("garbage.bin");
        File.WriteAllBytes(garbage, "not a checkpoint"u8.ToArray());
        string clean = Fixtures.PathOf("mlp.pth");
        string legacy = Fixtures.PathOf("legacy_mlp.pth");
        string malicious = Fixtures.PathOf("malicious_os_system.pth");

        var result = CliRun.Run("scan", clean, malicious, garbage, legacy, "--json");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(["files"], CliRun.PropertyNames(doc.RootElement));
        var reports = doc.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal([clean, malicious, garbage, legacy], reports.Select(r => r.GetProperty("file").GetString()));
        Assert.Equal(["clean", "unsafe", "unreadable", "clean"], reports.Select(r => r.GetProperty("verdict").GetString()));
        Assert.Equal(["zip", "zip", "unknown", "legacy"], reports.Select(r => r.GetProperty("format").GetString()));

        foreach (var report in reports)
        {
            bool unreadable = report.GetProperty("verdict").GetString() == "unreadable";
            Assert.Equal(unreadable ? ["file", "format", "verdict", "error", "pickles"] : ["file", "format", "verdict", "pickles"],
                CliRun.PropertyNames(report));
            foreach (var pickle in report.GetProperty("pickles").EnumerateArray())
            {
                Assert.Equal(["part", "protocol", "calls", "globals"], CliRun.PropertyNames(pickle));
                Assert.False(string.IsNullOrEmpty(pickle.GetProperty("part").GetString()));
                Assert.InRange(pickle.GetProperty("protocol").GetInt32(), 0, 5);
                Assert.Equal(JsonValueKind.Object, pickle.GetProperty("calls").ValueKind);
                Assert.All(pickle.GetProperty("calls").EnumerateObject(), c =>
                {
                    Assert.Contains(c.Name, new[] { "REDUCE", "NEWOBJ", "NEWOBJ_EX", "INST", "OBJ", "BUILD" });
                    Assert.True(c.Value.GetInt32() > 0);
                });
                foreach (var global in pickle.GetProperty("globals").EnumerateArray())
                {
                    Assert.Equal(["name", "offset", "risk", "reason"], CliRun.PropertyNames(global));
                    Assert.Contains('.', global.GetProperty("name").GetString()!);
                    Assert.True(global.GetProperty("offset").GetInt64() >= 0);
                    Assert.Contains(global.GetProperty("risk").GetString(), RiskNames);
                    Assert.False(string.IsNullOrEmpty(global.GetProperty("reason").GetString()));
                }
            }
        }

        Assert.Empty(reports[2].GetProperty("pickles").EnumerateArray());
        Assert.Equal("not a PyTorch checkpoint, pickle or safetensors file", reports[2].GetProperty("error").GetString());
        Assert.Equal(5, reports[3].GetProperty("pickles").GetArrayLength());
        var data = Assert.Single(reports[1].GetProperty("pickles").EnumerateArray());
        Assert.Equal("malicious_os_system/data.pkl", data.GetProperty("part").GetString());
        Assert.Equal(2, data.GetProperty("protocol").GetInt32());
        Assert.True(data.GetProperty("calls").GetProperty("REDUCE").GetInt32() >= 1);
        var globals = data.GetProperty("globals").EnumerateArray().ToList();
        var system = Assert.Single(globals, g => g.GetProperty("name").GetString() == "posix.system");
        Assert.Equal("code_execution", system.GetProperty("risk").GetString());
        Assert.All(globals.Where(g => g.GetProperty("name").GetString() != "posix.system"),
            g => Assert.Equal("allowed", g.GetProperty("risk").GetString()));
        // The JSON lists allowed globals without -v.
        Assert.Contains(globals, g => g.GetProperty("name").GetString() == "torch._utils._rebuild_tensor_v2");
    }

    [Theory]
    [InlineData("malicious/io_open_zip.pth", "io.open", "file_or_network")]
    [InlineData("malicious/whole_module.pkl", "torch.nn.modules.linear.Linear", "unknown_class")]
    [InlineData("model_full.pth", "__main__.MLP", "unknown_class")]
    [InlineData("malicious/inst.pkl", "os.system", "code_execution")]
    public void Json_names_each_risk(string name, string global, string risk)
    {
        var result = CliRun.Run("scan", Fixtures.PathOf(name), "--json");

        Assert.Equal(3, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var found = doc.RootElement.GetProperty("files")[0].GetProperty("pickles").EnumerateArray()
            .SelectMany(p => p.GetProperty("globals").EnumerateArray())
            .Where(g => g.GetProperty("name").GetString() == global).ToList();
        Assert.NotEmpty(found);
        Assert.All(found, g => Assert.Equal(risk, g.GetProperty("risk").GetString()));
    }

    [Fact]
    public void Json_of_a_clean_file_exits_0_with_nothing_on_stderr()
    {
        var result = CliRun.Run("scan", "--json", Fixtures.PathOf("checkpoint.pth"));

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("clean", doc.RootElement.GetProperty("files")[0].GetProperty("verdict").GetString());
    }

    public static TheoryData<string[]> UsageErrors() =>
        [["scan"], ["scan", "--frobnicate", "x.pth"], ["scan", "x.pth", "--jsn"], ["scan", ""], ["scan", "--json"]];

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void A_usage_error_exits_2(string[] args)
    {
        string line = CliRun.FailedWith(2, CliRun.Run(args));

        Assert.Contains("statedict --help", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_scan()
    {
        var result = CliRun.Run("--help");

        CliRun.Succeeded(result);
        Assert.Contains("scan", result.Stdout, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ helpers

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    /// <summary>The lines that start a file's report (details are indented under them).</summary>
    private static List<string> Summaries(string[] lines) => lines.Where(l => !l.StartsWith(' ')).ToList();

    /// <summary>No stack trace or exception type name on either stream.</summary>
    private static void AssertNoTrace(CliResult result)
    {
        foreach (string text in new[] { result.Stdout, result.Stderr })
        {
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
            Assert.False(ExceptionTypeName().IsMatch(text), $"output names an exception type: {text}");
            Assert.DoesNotContain("internal error", text, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"\b\w*Exception\b")]
    private static partial Regex ExceptionTypeName();
}
