using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary>
/// Exit codes: 0 fine, 1 unreadable or corrupt file, 2 usage, 3 refused as unsafe. Every failure is one line on stderr
/// starting "statedict: ", with no stack trace and no exception type names, and nothing on stdout.
/// </summary>
public class ExitCodeTests
{
    [Theory]
    [InlineData("inspect")]
    [InlineData("schema")]
    public void A_file_calling_os_system_is_refused_with_exit_3_naming_posix_system(string command)
    {
        var result = CliRun.Run(command, Fixtures.PathOf("malicious_os_system.pth"));

        string line = CliRun.FailedWith(3, result);
        Assert.Contains("posix.system", line);
        Assert.Contains("malicious_os_system.pth", line);
    }

    [Fact]
    public void A_whole_pickled_model_is_refused_with_exit_3_naming_its_class()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("model_full.pth"), "--json", "--hash");

        string line = CliRun.FailedWith(3, result);
        Assert.Contains("__main__.MLP", line);
    }

    [Fact]
    public void A_whole_model_in_a_plain_pickle_is_refused_with_exit_3_naming_its_class()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("model.pkl"));

        string line = CliRun.FailedWith(3, result);
        Assert.Contains("__main__.MLP", line);
    }

    [Theory]
    [InlineData("inspect", "kinds/quantized_scripted.pt", "TorchScript object with its own __getstate__ (__torch__.torch.ao.nn.quantized.modules.conv.Conv2d) holding tensors at 'conv'")]
    [InlineData("schema", "kinds/quantized_scripted.pt", "TorchScript object with its own __getstate__ (__torch__.torch.ao.nn.quantized.modules.conv.Conv2d) holding tensors at 'conv'")]
    [InlineData("inspect", "kinds/quantized_linear_scripted.pt", "opaque torch.ops custom class object (torch.classes.quantized.LinearPackedParamsBase) at 'fc._packed_params._packed_params'")]
    [InlineData("convert", "kinds/quantized_linear_scripted.pt", "opaque torch.ops custom class object (torch.classes.quantized.LinearPackedParamsBase) at 'fc._packed_params._packed_params'")]
    public void A_torchscript_quantized_model_is_unsupported_with_exit_1_naming_kind_and_key(string command, string name, string what)
    {
        string output = Path.Combine(Path.GetTempPath(), $"statedict-cli-{Guid.NewGuid():N}.pth");
        var result = command == "convert" ? CliRun.Run(command, Fixtures.PathOf(name), output) : CliRun.Run(command, Fixtures.PathOf(name));

        string line = CliRun.FailedWith(1, result);
        Assert.Contains("unsupported: " + what, line);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("inspect", "model_full.pth")]
    [InlineData("inspect", "model.pkl")]
    [InlineData("schema", "model_full.pth")]
    [InlineData("schema", "model.pkl")]
    public void Refusing_a_whole_pickled_model_names_the_opt_in(string command, string name)
    {
        var result = CliRun.Run(command, Fixtures.PathOf(name));

        string line = CliRun.FailedWith(3, result);
        Assert.Contains("--allow-module-pickles", line);
    }

    [Theory]
    [InlineData("model_full.pth")]
    [InlineData("model.pkl")]
    public void A_whole_pickled_model_reads_with_allow_module_pickles(string name)
    {
        var expected = Fixtures.ExpectedFor(name);

        var result = CliRun.Run("inspect", Fixtures.PathOf(name), "--json", "--hash", "--allow-module-pickles");

        CliRun.Succeeded(result);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(expected.Tensors.Select(t => t.Key), tensors.Select(t => t.GetProperty("key").GetString()));
        Assert.Equal(expected.Tensors.Select(t => t.Sha256), tensors.Select(t => t.GetProperty("sha256").GetString()));
    }

    [Theory]
    [InlineData("model_full.pth")]
    [InlineData("model.pkl")]
    public void Schema_of_a_whole_pickled_model_reads_with_allow_module_pickles(string name)
    {
        var result = CliRun.Run("schema", Fixtures.PathOf(name), "--allow-module-pickles");

        CliRun.Succeeded(result);
        Assert.Contains("fc1.weight", result.Stdout);
        Assert.Contains("fc2.bias", result.Stdout);
    }

    [Fact]
    public void Allow_module_pickles_still_refuses_os_system_with_exit_3()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("malicious_os_system.pth"), "--allow-module-pickles");

        string line = CliRun.FailedWith(3, result);
        Assert.Contains("posix.system", line);
    }

    public static TheoryData<string, int> Truncations() => new()
    {
        { "mlp.pth", 30 }, { "mlp.pth", 1000 }, { "mlp.pth", -1 },
        { "legacy_mlp.pth", 30 }, { "legacy_mlp.pth", 300 }, { "legacy_mlp.pth", 1500 }, { "legacy_mlp.pth", -1 },
        { "legacy_views.pth", 2000 }, { "views.pth", -22 },
    };

    /// <summary>A copy cut to <paramref name="length"/> bytes (negative: that many bytes short of the whole file).</summary>
    [Theory]
    [MemberData(nameof(Truncations))]
    public void A_truncated_copy_exits_1(string name, int length)
    {
        using var temp = new TempDirectory();
        var bytes = File.ReadAllBytes(Fixtures.PathOf(name));
        string path = temp.File("truncated_" + name);
        File.WriteAllBytes(path, bytes[..(length >= 0 ? length : bytes.Length + length)]);

        var result = CliRun.Run("inspect", path, "--hash");

        string line = CliRun.FailedWith(1, result);
        Assert.Contains(path, line);
    }

    [Fact]
    public void A_missing_file_exits_1_naming_it()
    {
        using var temp = new TempDirectory();
        string path = temp.File("no_such_file.pth");

        var result = CliRun.Run("inspect", path);

        string line = CliRun.FailedWith(1, result);
        Assert.Contains(path, line);
    }

    [Fact]
    public void Random_bytes_exit_1_saying_not_a_PyTorch_checkpoint()
    {
        using var temp = new TempDirectory();
        var bytes = new byte[4096];
        new Random(20240607).NextBytes(bytes);
        bytes[0] = (byte)'x';   // neither a zip ("PK"), nor a pickle (0x80) header
        string path = temp.File("random.pth");
        File.WriteAllBytes(path, bytes);

        var result = CliRun.Run("inspect", path);

        string line = CliRun.FailedWith(1, result);
        Assert.Contains("not a PyTorch checkpoint", line);
    }

    [Fact]
    public void An_empty_file_exits_1_saying_not_a_PyTorch_checkpoint()
    {
        using var temp = new TempDirectory();
        string path = temp.File("empty.pth");
        File.WriteAllBytes(path, []);

        var result = CliRun.Run("schema", path);

        string line = CliRun.FailedWith(1, result);
        Assert.Contains("not a PyTorch checkpoint", line);
    }

    [Fact]
    public void A_prefix_that_selects_nothing_exits_1_listing_the_prefixes()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("checkpoint.pth"), "--prefix", "modle.");

        string line = CliRun.FailedWith(1, result);
        Assert.Contains("model.", line);
    }

    [Fact]
    public void A_directory_instead_of_a_file_exits_1()
    {
        using var temp = new TempDirectory();

        CliRun.FailedWith(1, CliRun.Run("inspect", temp.Path));
    }

    public static TheoryData<string[]> UsageErrors() =>
    [
        [],
        ["inspect"],
        ["schema"],
        ["frobnicate"],
        ["frobnicate", "x.pth"],
        ["inspect", "x.pth", "--frobnicate"],
        ["inspect", "x.pth", "--prefix"],
        ["schema", "x.pth", "-o"],
        ["inspect", ""],
        ["schema", "x.pth", "-o", ""],
    ];

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void A_usage_error_exits_2_with_one_line(string[] args)
    {
        var result = CliRun.Run(args);

        string line = CliRun.FailedWith(2, result);
        Assert.Contains("statedict --help", line);
    }

    [Fact]
    public void Help_exits_0_and_lists_the_commands()
    {
        var result = CliRun.Run("--help");

        CliRun.Succeeded(result);
        Assert.Contains("inspect", result.Stdout);
        Assert.Contains("schema", result.Stdout);
    }

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Every_readable_fixture_exits_0(string name)
    {
        CliRun.Succeeded(CliRun.Run("inspect", Fixtures.PathOf(name), "--hash"));
    }
}
