using StateDict.Containers;
using StateDict.Pickle;
using StateDict.Safety;
using StateDict.Torch;

namespace StateDict;

/// <summary>
/// Lists every global the pickles of a file reference, with a risk for each, like picklescan or fickling but for
/// the files StateDict reads: zip archives (every member that holds a pickle, whatever its name, and the object arrays
/// of <c>.npy</c> members), legacy files (all five pickles), plain pickles (and pickles stacked after them),
/// safetensors (no pickle), and the torch.save payloads nested behind <c>torch.storage._load_from_bytes</c>. Each
/// global is rated by <see cref="GlobalPolicy"/>, the policy <see cref="Checkpoint.Open(string, LoadOptions?)"/> uses
/// too. Nothing is executed or imported.
/// </summary>
/// <example>
/// <code>
/// var report = CheckpointScanner.Scan("download.pth");
/// if (report.Verdict != ScanVerdict.Clean)
///     foreach (var g in report.Unsafe) Console.WriteLine($"{g.Name}: {g.Risk} ({g.Reason})");
/// </code>
/// </example>
public static class CheckpointScanner
{
    /// <summary>Scans one file. Never throws for a bad file: an unreadable one gets <see cref="ScanVerdict.Unreadable"/>.</summary>
    public static ScanReport Scan(string path, CheckpointLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var scan = new ScanRun(path, limits ?? CheckpointLimits.Default);
        string format = "unknown";
        try
        {
            using var file = new CheckpointFile(path);
            format = scan.File(file, "", depth: 0);
            return scan.Report(format, null);
        }
        catch (CheckpointException e)
        {
            return scan.Report(format, e.Problem);
        }
    }
}
