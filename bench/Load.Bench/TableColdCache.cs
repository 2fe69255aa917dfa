using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace StateDict.LoadBench;

/// <summary>
/// The cold-page-cache rows: before each run the page cache is dropped (<c>echo 3 &gt; /proc/sys/vm/drop_caches</c>,
/// root only), so the file comes from the disk. <c>dd</c> of the same file is the reference: the disk's own speed.
/// </summary>
internal sealed partial class Table
{
    private const string DropCachesPath = "/proc/sys/vm/drop_caches";

    private string ColdRows(string path, long bytes)
    {
        var text = new StringBuilder();
        string name = Path.GetFileName(path);
        text.AppendLine();
        if (DropCaches() is { } why)
        {
            text.AppendLine(Invariant, $"Cold page cache ({name}): skipped ({why}).");
            return text.ToString();
        }
        Progress($"{name}: cold page cache rows (dropping the page cache before each run)");
        var dd = Repeat(options.Runs, () => { DropCaches(); return Dd(path); });
        var rows = new List<(string Label, List<JsonObject> Runs)>
        {
            ($"dd if={name} of=/dev/null bs=16M", dd),
            ("StateDict copy-mode full load, fresh process", Repeat(options.Runs, () => { DropCaches(); return Child(SelfCommand(MeasureArgs("copy", path, fresh: true)), path, warm: false); })),
            ("StateDict mmap full touch, fresh process", Repeat(options.Runs, () => { DropCaches(); return Child(SelfCommand(MeasureArgs("mmap", path, fresh: true)), path, warm: false); })),
        };
        if (options.Python is { } python)
        {
            rows.Add(("torch.load weights_only=False", Repeat(options.Runs, () => { DropCaches(); return Child(TorchCommand(python, path, 0), path, warm: false); })));
        }
        double ddSeconds = Stats.Median(dd.Select(r => Seconds(r, "seconds")));
        text.AppendLine(Invariant, $"| {name}, cold page cache | time | GB/s | × dd | runs |");
        text.AppendLine("|---|---:|---:|---:|---|");
        foreach (var (label, runs) in rows)
        {
            double seconds = Stats.Median(runs.Select(r => Seconds(r, "seconds")));
            text.AppendLine(Invariant, $"| {label} | {Time(seconds)} | {Significant(bytes / seconds / 1e9)} | {Significant(ddSeconds / seconds)}× | {Spread(runs)} |");
        }
        text.AppendLine();
        text.AppendLine(Invariant, $"Medians of {options.Runs} runs, the page cache dropped before each; × dd = dd's time / the row's time (1.0 = as fast as the disk gives the file).");
        // Leave the cache warm for whatever runs next.
        WarmPageCache(path);
        return text.ToString();
    }

    /// <summary>Drops the page cache; null when done, else why it could not be.</summary>
    private static string? DropCaches()
    {
        try
        {
            using (Process.Start("sync")!)
            {
            }
            System.IO.File.WriteAllText(DropCachesPath, "3\n");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return $"cannot write {DropCachesPath}: {e.Message}";
        }
    }

    private static JsonObject Dd(string path)
    {
        var start = new ProcessStartInfo("dd") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { $"if={path}", "of=/dev/null", "bs=16M" })
        {
            start.ArgumentList.Add(argument);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        var result = new JsonObject { ["seconds"] = clock.Elapsed.TotalSeconds };
        Progress($"  dd {path}: {Time(clock.Elapsed.TotalSeconds)}");
        return result;
    }
}
