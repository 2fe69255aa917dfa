namespace StateDict;

/// <summary>How dangerous a global referenced by a pickle is.</summary>
public enum GlobalRisk
{
    /// <summary>On StateDict's allow-list (what <c>torch.load(weights_only=True)</c> needs), or plain data to StateDict.</summary>
    Allowed,
    /// <summary>Runs code when unpickled by Python: <c>os.system</c>, <c>builtins.eval</c>, <c>subprocess.Popen</c>, …</summary>
    CodeExecution,
    /// <summary>Touches files or the network when unpickled by Python: <c>builtins.open</c>, <c>socket.socket</c>, …</summary>
    FileOrNetwork,
    /// <summary>A class or function StateDict does not know: Python would import it and may run its code.</summary>
    UnknownClass,
}

/// <summary>The overall verdict for a scanned file.</summary>
public enum ScanVerdict
{
    /// <summary>Every global is allowed.</summary>
    Clean,
    /// <summary>At least one global is not allowed.</summary>
    Unsafe,
    /// <summary>The file could not be read; see <see cref="ScanReport.Error"/>.</summary>
    Unreadable,
}

/// <summary>One global a pickle references, where, and how risky it is.</summary>
public sealed record GlobalFinding(string Name, long Offset, GlobalRisk Risk, string Reason);

/// <summary>One pickle inside a file: where it is, the globals it names and the opcodes that would call something.</summary>
public sealed record PickleFinding(string Part, int Protocol, IReadOnlyList<GlobalFinding> Globals, IReadOnlyDictionary<string, int> Calls);

/// <summary>What <see cref="CheckpointScanner.Scan"/> found in one file. Nothing was executed or imported to find it.</summary>
public sealed record ScanReport(string FilePath, string Format, ScanVerdict Verdict, IReadOnlyList<PickleFinding> Pickles, string? Error)
{
    /// <summary>Every global that is not allowed, across all pickles.</summary>
    public IEnumerable<GlobalFinding> Unsafe => Pickles.SelectMany(p => p.Globals).Where(g => g.Risk != GlobalRisk.Allowed);

    /// <summary>
    /// Parts of the file that could not be scanned ("unscanned member X: why"): archive members that are encrypted,
    /// damaged or compressed with a method StateDict does not read. Any makes the verdict at best
    /// <see cref="ScanVerdict.Unreadable"/> (exit 1), never clean.
    /// </summary>
    public IReadOnlyList<string> Unscanned { get; init; } = [];
}
