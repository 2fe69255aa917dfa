using StateDict.Tests.Pickle;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// The malicious catalogue (tests/fixtures/malicious, written by Python's own pickler and torch.save; see
/// tests/fixtures/README.md): every technique of FORMATS.md section 7 in a zip, a legacy and a plain-pickle file.
/// <see cref="Checkpoint.Open"/> refuses each one as unsafe, naming the global Python would have imported, and
/// <see cref="CheckpointScanner"/> reports it with the right risk. Nothing runs: every payload that would run a
/// command would create <see cref="Pwned"/>.
/// </summary>
public class MaliciousCatalogueTests
{
    /// <summary>What every payload's command would create.</summary>
    private const string Pwned = "/tmp/statedict_pwned";

    /// <summary>The risk the scanner must give each global a fixture's expected.json names.</summary>
    private static readonly Dictionary<string, GlobalRisk> Risks = new(StringComparer.Ordinal)
    {
        ["posix.system"] = GlobalRisk.CodeExecution,
        ["os.system"] = GlobalRisk.CodeExecution,
        ["builtins.eval"] = GlobalRisk.CodeExecution,
        ["builtins.exec"] = GlobalRisk.CodeExecution,
        ["builtins.getattr"] = GlobalRisk.CodeExecution,
        ["builtins.__import__"] = GlobalRisk.CodeExecution,
        ["subprocess.Popen"] = GlobalRisk.CodeExecution,
        ["subprocess.call"] = GlobalRisk.CodeExecution,
        ["runpy._run_code"] = GlobalRisk.CodeExecution,
        ["webbrowser.open"] = GlobalRisk.CodeExecution,
        ["torch.serialization.load"] = GlobalRisk.CodeExecution,
        ["pickle.loads"] = GlobalRisk.CodeExecution,
        ["copyreg._reconstructor"] = GlobalRisk.CodeExecution,
        ["operator.attrgetter"] = GlobalRisk.CodeExecution,
        ["operator.methodcaller"] = GlobalRisk.CodeExecution,
        ["functools.partial"] = GlobalRisk.CodeExecution,
        ["io.open"] = GlobalRisk.FileOrNetwork,
        ["torch.nn.modules.linear.Linear"] = GlobalRisk.UnknownClass,
        ["__main__.MLP"] = GlobalRisk.UnknownClass,
    };

    /// <summary>Every file of tests/fixtures/malicious, as "malicious/NAME".</summary>
    public static TheoryData<string> Catalogue() => [.. CatalogueFiles()];

    /// <summary>The catalogue plus the other fixtures a reader must refuse (whole pickled models, os.system).</summary>
    public static TheoryData<string> MustReject() =>
        [.. CatalogueFiles(), .. TopLevelFixtures().Where(n => Fixtures.ExpectedFor(n).MustReject)];

    /// <summary>Every fixture of tests/fixtures that PyTorch reads without running anything of the file's.</summary>
    public static TheoryData<string> Clean() => [.. TopLevelFixtures().Where(n => !Fixtures.ExpectedFor(n).MustReject)];

    private static IEnumerable<string> CatalogueFiles() =>
        System.IO.Directory.GetFiles(Fixtures.PathOf("malicious"), "*.expected.json")
            .Select(p => "malicious/" + Path.GetFileName(p)[..^".expected.json".Length])
            .Order(StringComparer.Ordinal);

    private static IEnumerable<string> TopLevelFixtures() =>
        System.IO.Directory.GetFiles(Fixtures.Directory, "*.expected.json")
            .Select(p => Path.GetFileName(p)[..^".expected.json".Length])
            .Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(MustReject))]
    public void Open_refuses_it_as_unsafe_naming_the_global(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        string path = Fixtures.PathOf(name);
        Assert.True(expected.MustReject);
        Assert.NotNull(expected.ForbiddenGlobal);

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(path));

        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": refused: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected.ForbiddenGlobal, e.RefusedGlobals);
        Assert.Contains(expected.ForbiddenGlobal, e.Message, StringComparison.Ordinal);
        Assert.Contains("StateDict executed nothing", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Pwned), $"{Pwned} exists");
    }

    [Theory]
    [MemberData(nameof(MustReject))]
    public void The_scanner_reports_it_unsafe_with_the_globals_risk(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        string path = Fixtures.PathOf(name);

        var report = CheckpointScanner.Scan(path);

        Assert.True(report.Verdict == ScanVerdict.Unsafe, $"{name}: {report.Verdict} ({report.Error})");
        Assert.Null(report.Error);
        Assert.Equal(path, report.FilePath);
        // A legacy file written with pickle protocol 4 lacks the protocol-2 signature: it scans as stacked pickles.
        Assert.Equal(expected.Format, report.Format);
        var findings = report.Pickles.SelectMany(p => p.Globals).Where(g => g.Name == expected.ForbiddenGlobal).ToList();
        Assert.True(findings.Count > 0, $"{name}: the scan does not list {expected.ForbiddenGlobal}: " +
            string.Join(", ", report.Pickles.SelectMany(p => p.Globals).Select(g => g.Name)));
        foreach (var finding in findings)
        {
            Assert.Equal(Risks[expected.ForbiddenGlobal!], finding.Risk);
            Assert.False(string.IsNullOrWhiteSpace(finding.Reason));
            Assert.InRange(finding.Offset, 0, new FileInfo(path).Length);
        }
        Assert.Contains(report.Unsafe, g => g.Name == expected.ForbiddenGlobal);
        Assert.False(File.Exists(Pwned), $"{Pwned} exists");
    }

    [Theory]
    [MemberData(nameof(Clean))]
    public void Every_clean_fixture_scans_clean(string name)
    {
        var expected = Fixtures.ExpectedFor(name);

        var report = CheckpointScanner.Scan(Fixtures.PathOf(name));

        Assert.True(report.Verdict == ScanVerdict.Clean,
            $"{name}: {report.Verdict} ({report.Error}); unsafe: {string.Join(", ", report.Unsafe.Select(g => $"{g.Name} ({g.Risk})"))}");
        Assert.Null(report.Error);
        // As above: the scanner tells legacy files by their protocol-2 signature only (legacy_protocolN.pth, N != 2).
        Assert.Equal(expected.Format, report.Format);
        Assert.NotEmpty(report.Pickles);
        Assert.All(report.Pickles.SelectMany(p => p.Globals), g => Assert.Equal(GlobalRisk.Allowed, g.Risk));
    }

    [Fact]
    public void The_TorchScript_archive_and_the_plain_state_dict_pickle_scan_clean()
    {
        // Both read (their own globals are data in their own formats) and neither names anything unsafe.
        var scripted = CheckpointScanner.Scan(Fixtures.PathOf("scripted_mlp.pt"));
        var pickled = CheckpointScanner.Scan(Fixtures.PathOf("state_dict.pkl"));

        Assert.Equal((ScanVerdict.Clean, "torchscript"), (scripted.Verdict, scripted.Format));
        Assert.Equal((ScanVerdict.Clean, "pickle"), (pickled.Verdict, pickled.Format));
        // state_dict.pkl embeds each storage as legacy torch.save bytes: those are scanned as nested files.
        Assert.Contains(pickled.Pickles, p => p.Part.Contains("_load_from_bytes payload", StringComparison.Ordinal));
        Assert.Contains(scripted.Pickles, p => p.Part.EndsWith("constants.pkl", StringComparison.Ordinal));
    }

    // ------------------------------------------------------------------ hand-written variants

    public static TheoryData<string, string, string, GlobalRisk> Python2Names() => new()
    {
        // Python 3's own pickler writes these at protocol 2 (fix_imports); its unpickler maps them back.
        { "commands", "Popen", "subprocess.Popen", GlobalRisk.CodeExecution },
        { "commands", "getoutput", "subprocess.getoutput", GlobalRisk.CodeExecution },
        { "cPickle", "loads", "pickle.loads", GlobalRisk.CodeExecution },
        { "__builtin__", "eval", "builtins.eval", GlobalRisk.CodeExecution },
        { "__builtin__", "reduce", "functools.reduce", GlobalRisk.CodeExecution },
        { "__builtin__", "intern", "sys.intern", GlobalRisk.CodeExecution },
        { "copy_reg", "_reconstructor", "copyreg._reconstructor", GlobalRisk.CodeExecution },
        { "urllib", "urlopen", "urllib.request.urlopen", GlobalRisk.FileOrNetwork },
        { "urllib2", "urlopen", "urllib.request.urlopen", GlobalRisk.FileOrNetwork },
        { "httplib", "HTTPConnection", "http.client.HTTPConnection", GlobalRisk.FileOrNetwork },
        { "cStringIO", "StringIO", "io.StringIO", GlobalRisk.FileOrNetwork },
    };

    [Theory]
    [MemberData(nameof(Python2Names))]
    public void A_Python_2_name_is_refused_and_scanned_under_the_name_Python_3_imports(string module, string name, string python3, GlobalRisk risk)
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("payload")
            .Global(module, name).BinUnicode("x").Tuple1().Reduce().SetItem().Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle));

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(file.Path));
        var report = CheckpointScanner.Scan(file.Path);

        Assert.Equal([python3], e.RefusedGlobals);
        Assert.Contains(python3, e.Message, StringComparison.Ordinal);
        var finding = Assert.Single(report.Unsafe);
        Assert.Equal((python3, risk), (finding.Name, finding.Risk));
    }

    [Fact]
    public void A_hand_written_protocol_0_os_system_pickle_is_refused_and_scanned_unsafe()
    {
        // The classic payload: no PROTO opcode, so it starts with 'c' rather than 0x80.
        var pickle = "cos\nsystem\n(S'touch /tmp/statedict_pwned'\ntR."u8.ToArray();
        using var file = new TempFile(pickle, ".pkl");

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(file.Path));
        var report = CheckpointScanner.Scan(file.Path);

        Assert.Equal(["os.system"], e.RefusedGlobals);
        Assert.Equal((ScanVerdict.Unsafe, "pickle"), (report.Verdict, report.Format));
        var pickled = Assert.Single(report.Pickles);
        Assert.Equal(0, pickled.Protocol);
        Assert.Equal(1, pickled.Calls["REDUCE"]);
        Assert.Equal(("os.system", 0L, GlobalRisk.CodeExecution), (pickled.Globals[0].Name, pickled.Globals[0].Offset, pickled.Globals[0].Risk));
    }

    [Theory]
    [InlineData("cat: no such file\n")]
    [InlineData("(this is not a pickle)\n")]
    [InlineData("]]]]")]
    [InlineData("Sorry, not a checkpoint\n")]
    [InlineData("N")]
    public void Text_that_only_starts_like_a_protocol_0_pickle_is_not_a_checkpoint(string text)
    {
        using var file = new TempFile(System.Text.Encoding.ASCII.GetBytes(text));

        var e = Assert.Throws<CheckpointFormatException>(() => Read.All(file.Path));
        var report = CheckpointScanner.Scan(file.Path);

        Assert.Contains("not a PyTorch checkpoint", e.Message, StringComparison.Ordinal);
        Assert.Equal((ScanVerdict.Unreadable, "not a PyTorch checkpoint, pickle or safetensors file"), (report.Verdict, report.Error));
    }

    [Fact]
    public void A_harmless_protocol_0_pickle_reads_as_a_plain_pickle()
    {
        var pickle = "(dp0\nVepoch\np1\nI3\ns."u8.ToArray();
        using var file = new TempFile(pickle, ".pkl");

        using var checkpoint = Checkpoint.Open(file.Path);
        var report = CheckpointScanner.Scan(file.Path);

        Assert.Equal((CheckpointFormat.Pickle, 3L), (checkpoint.Format, checkpoint.Values["epoch"]));
        Assert.Equal((ScanVerdict.Clean, "pickle"), (report.Verdict, report.Format));
    }

    [Theory]
    [InlineData(0, "magic number")]
    [InlineData(1, "protocol version")]
    [InlineData(2, "sys_info")]
    [InlineData(4, "storage key list")]
    public void A_legacy_file_calling_os_system_outside_its_main_pickle_is_refused(int index, string part)
    {
        // torch.load runs all five pickles of a legacy file with the full unpickler; Open once checked only the main one
        // and read this file (exit 0) while the scanner called it unsafe.
        var original = File.ReadAllBytes(Fixtures.PathOf("legacy_mlp.pth"));
        var ends = new List<int> { 0 };
        for (int i = 0; i < 5; i++)
        {
            ends.Add(ends[^1] + StateDict.Pickle.PickleMachine.Run(original.AsSpan(ends[^1]), new StateDict.Pickle.PickleSource("legacy_mlp.pth", "fixture"), CheckpointLimits.Default).EndPosition);
        }
        // The original pickle's value, then os.system(cmd) popped off the stack: the value torch.load sees is unchanged.
        var payload = new PickleBuilder().Proto(2).Global("posix", "system").BinUnicode("touch " + Pwned).Tuple1().Reduce().Pop().ToArray();
        var pickle = original.AsSpan(ends[index], ends[index + 1] - ends[index]);
        int body = index == 0 ? LegacyMagicBody : 2; // keep PROTO 2 (and for the magic number, the signature) first
        byte[] evil = [.. original.AsSpan(0, ends[index]), .. pickle[..body], .. payload[2..], .. pickle[body..], .. original.AsSpan(ends[index + 1])];
        using var file = new TempFile(evil);

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(file.Path));
        var report = CheckpointScanner.Scan(file.Path);

        Assert.Equal(["posix.system"], e.RefusedGlobals);
        Assert.Contains($"legacy {part} pickle", e.Message, StringComparison.Ordinal);
        Assert.Equal((ScanVerdict.Unsafe, "posix.system"), (report.Verdict, Assert.Single(report.Unsafe).Name));
    }

    /// <summary>The legacy signature: PROTO 2 and the LONG1 magic number, which must stay the file's first bytes.</summary>
    private static readonly int LegacyMagicBody = StateDict.Containers.LegacyContainer.Signature.Length;

    [Fact]
    public void The_catalogue_puts_every_technique_in_every_container()
    {
        var files = CatalogueFiles().ToList();
        var techniques = files.Where(f => f.EndsWith("_zip.pth", StringComparison.Ordinal))
            .Select(f => f["malicious/".Length..^"_zip.pth".Length]).ToList();

        Assert.True(techniques.Count >= 19, $"only {techniques.Count} techniques: {string.Join(", ", techniques)}");
        foreach (string technique in techniques)
        {
            var containers = new[] { $"malicious/{technique}_zip.pth", $"malicious/{technique}_legacy.pth", $"malicious/{technique}.pkl" };
            Assert.All(containers, c => Assert.Contains(c, files));
            var formats = containers.Select(c => Fixtures.ExpectedFor(c).Format).ToArray();
            Assert.Equal(["zip", "legacy", "pickle"], formats);
            var globals = containers.Select(c => Fixtures.ExpectedFor(c).ForbiddenGlobal).Distinct().ToList();
            Assert.Single(globals);
        }
        Assert.All(files, f => Assert.True(Fixtures.ExpectedFor(f).MustReject, f));
        Assert.All(files, f => Assert.True(Risks.ContainsKey(Fixtures.ExpectedFor(f).ForbiddenGlobal!), $"{f}: no risk listed"));
        Assert.All(files, f => Assert.InRange(new FileInfo(Fixtures.PathOf(f)).Length, 1, 8192));
    }
}
