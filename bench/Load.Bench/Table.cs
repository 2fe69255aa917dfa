using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace StateDict.LoadBench;

/// <summary>
/// The default mode: for each checkpoint, warm its page cache, run every mode N times (each run a fresh child process,
/// warmed up inside before the timed work) and M more times with the timed work first in the process (what a user
/// meets), run torch.load in both weights_only modes, then the cold-page-cache rows, and print markdown tables per file.
/// </summary>
internal sealed partial class Table(TableOptions options)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private string Label(string key)
    {
        string touch = options.Touch == "bytes" ? "read every byte" : "touch every 4 KiB page";
        return key switch
        {
            "open" => "StateDict open + list (pickle only, copy mode)",
            "copy" => $"StateDict copy-mode full load (open + Preload + read every tensor, {touch})",
            "copy-seq" => $"StateDict copy-mode full load, no Preload (read every tensor in order, {touch})",
            "copy-managed" => $"StateDict copy mode into managed arrays (TensorMemory.Managed; open + Preload + read every tensor, {touch})",
            "mmap-open" => "StateDict mmap open + list",
            "mmap" => "StateDict mmap full touch (open + read every tensor, read every byte)",
            "read-each" => "StateDict Read<T> of every tensor after the open (copy mode, touch every 4 KiB page; open not timed)",
            "slice8" => "StateDict ReadSlice, first 1/8 of dim 0 of every tensor (open + read, copy mode, touch every 4 KiB page)",
            "slice8-into" => "StateDict CopySliceTo, the same slices into one reused buffer (open + read, touch every 4 KiB page)",
            "copy-into" => "StateDict CopyTo of every whole tensor into one reused buffer (open + read, touch every 4 KiB page)",
            "convert-f32" => "StateDict ReadAs<float> of every tensor (open + convert; × memcpy of the float32 output's size)",
            "torch-0" => $"torch.load weights_only=False (+ {touch})",
            "torch-1" => $"torch.load weights_only=True (+ {touch})",
            _ => key,
        };
    }

    public int Run()
    {
        var output = new StringBuilder();
        output.AppendLine(CultureInfo.InvariantCulture, $"Load.Bench, {DateTime.Now:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, " +
            $"THP {Thp()}, load average {LoadAverage()} at the start; warm: medians of {options.Runs} runs, fresh: medians of {options.FreshRuns} runs, each in a fresh process, warm page cache.");
        output.AppendLine();
        foreach (var name in options.Files)
        {
            var path = Path.Combine(options.Directory, name);
            if (!System.IO.File.Exists(path))
            {
                Console.Error.WriteLine($"{path}: missing (run bench/make_checkpoints.py {options.Directory})");
                return 1;
            }
            output.Append(Measure(path));
            output.AppendLine();
        }
        Console.Out.Write(output.ToString());
        return 0;
    }

    private string Measure(string path)
    {
        long bytes = new FileInfo(path).Length;
        Progress($"{Path.GetFileName(path)}: {bytes / 1e6:N1} MB");
        int tensorCount;
        long tensorBytes;
        using (var checkpoint = Checkpoint.Open(path))
        {
            tensorCount = checkpoint.Tensors.Count;
            tensorBytes = checkpoint.Tensors.Values.Sum(t => t.ByteLength);
        }
        WarmPageCache(path);
        var limits = Child(SelfCommand(["measure", "limits", path, "--repetitions", options.Runs.ToString(Invariant)]), path);
        var rows = new List<Row>();
        foreach (var mode in options.Modes)
        {
            var warm = Repeat(options.Runs, () => Child(SelfCommand(MeasureArgs(mode, path, fresh: false)), path));
            var fresh = Repeat(options.FreshRuns, () => Child(SelfCommand(MeasureArgs(mode, path, fresh: true)), path));
            rows.Add(new Row(mode, warm, fresh));
        }
        if (options.Python is { } python)
        {
            foreach (var weightsOnly in new[] { 0, 1 })
            {
                // Every torch.load run is a fresh Python process already: the same runs fill both columns.
                var runs = Repeat(Math.Max(options.Runs, options.FreshRuns), () => Child(TorchCommand(python, path, weightsOnly), path));
                rows.Add(new Row($"torch-{weightsOnly}", runs, runs));
            }
        }
        string cold = options.Cold ? ColdRows(path, bytes) : "";
        return Format(path, bytes, tensorCount, tensorBytes, limits, rows) + cold;
    }

    private List<string> MeasureArgs(string mode, string path, bool fresh)
    {
        var args = new List<string> { "measure", mode, path, "--repetitions", "5" };
        if (options.Touch is { } touch && mode != "mmap")
        {
            args.AddRange(["--touch", touch]);
        }
        if (fresh)
        {
            args.Add("--fresh");
        }
        return args;
    }

    private List<string> TorchCommand(string python, string path, int weightsOnly) =>
        [python, options.TorchScript, path, "--weights-only", weightsOnly.ToString(Invariant), "--touch", options.Touch ?? "pages"];

    private static List<JsonObject> Repeat(int count, Func<JsonObject> run) => Enumerable.Range(0, count).Select(_ => run()).ToList();

    private string Format(string path, long bytes, int tensorCount, long tensorBytes, JsonObject limits, List<Row> rows)
    {
        var text = new StringBuilder();
        string Gbps(double seconds) => Significant(bytes / seconds / 1e9);
        text.AppendLine(Invariant, $"### {Path.GetFileName(path)}: {bytes / 1e6:N1} MB, {tensorCount:N0} tensors ({tensorBytes / 1e6:N1} MB of tensor bytes)");
        text.AppendLine();
        text.AppendLine(Invariant, $"Machine, same bytes: memcpy between touched buffers {Gbps(Seconds(limits, "memcpy_seconds"))} GB/s; " +
            $"first touch (memcpy into fresh memory, 4 KiB pages) {Gbps(Seconds(limits, "first_touch_4k_seconds"))} GB/s; " +
            $"into fresh 2 MiB huge pages {Gbps(Seconds(limits, "first_touch_2m_seconds"))} GB/s; " +
            $"read(2) page cache → touched buffer {Gbps(Seconds(limits, "read_touched_seconds"))} GB/s, " +
            $"→ fresh huge-page buffer {Gbps(Seconds(limits, "read_fresh_2m_seconds"))} GB/s " +
            $"(AnonHugePages with the two touched buffers: {Seconds(limits, "anon_huge") / 1e6:N0} MB of {2 * bytes / 1e6:N0} MB).");
        text.AppendLine();
        text.AppendLine(Invariant, $"| {Path.GetFileName(path)} | warm | fresh process | GB/s (warm) | × memcpy (warm) | × memcpy (fresh) | peak RSS | notes |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
        // The page-touch checksum (one byte per 4 KiB page of every tensor) is the same computation in C# and Python:
        // every row that touched pages must agree with the first one, which shows all of them read the same bytes.
        var reference = rows.SelectMany(r => r.Warm.Concat(r.Fresh)).Select(PageChecksum).FirstOrDefault(c => c is not null);
        foreach (var row in rows)
        {
            double seconds = Stats.Median(row.Warm.Select(r => Seconds(r, "seconds")));
            double fresh = Stats.Median(row.Fresh.Select(r => Seconds(r, "seconds")));
            long hwm = row.Warm.Concat(row.Fresh).Max(r => (long?)r["hwm"] ?? 0);
            text.AppendLine(Invariant, $"| {Label(row.Key)} | {Time(seconds)} | {Time(fresh)} | {Gbps(seconds)} | {Significant(MemcpyRatio(row.Warm))}× | " +
                $"{Significant(MemcpyRatio(row.Fresh))}× | {hwm / 1e6:N0} MB | {Notes(row.Key, row.Warm.Concat(row.Fresh).ToList(), tensorCount, reference)}; fresh runs {Spread(row.Fresh)} |");
        }
        text.AppendLine();
        text.AppendLine(Invariant, $"warm = median of {options.Runs} fresh processes, each timing its work after an untimed warm-up (open rows: median of 5 opens after the first); " +
            $"fresh process = median of {options.FreshRuns} fresh processes whose timed work is the first thing they do (JIT and first touch of fresh memory included; torch rows: every run is a fresh Python process with torch imported before the clock starts); " +
            $"GB/s = file bytes ({bytes:N0}) / warm time; × memcpy = memcpy time of the same bytes between touched buffers, measured in the same process after the load, / load time (median of the per-run ratios); peak RSS = VmHWM (ru_maxrss for Python), the largest of the runs.");
        return text.ToString();
    }

    private static double MemcpyRatio(List<JsonObject> runs) => Stats.Median(runs.Select(r => Seconds(r, "memcpy_seconds") / Seconds(r, "seconds")));

    /// <summary>Fastest–slowest of the runs: the variance a user meets.</summary>
    private static string Spread(List<JsonObject> runs)
    {
        var times = runs.Select(r => Seconds(r, "seconds")).ToList();
        return times.Count == 0 ? "none" : $"{Time(times.Min())}–{Time(times.Max())}";
    }

    private static string Notes(string key, List<JsonObject> runs, int tensorCount, decimal? reference)
    {
        var notes = new List<string>();
        var checksums = runs.Select(PageChecksum).Where(c => c is not null).ToList();
        if (checksums.Count > 0)
        {
            notes.Add(checksums.All(c => c == reference) ? "page checksum agrees" : $"**page checksum {checksums[0]} differs from {reference}**");
        }
        if (runs.Any(r => r["tensors"] is { } n && (int)n != tensorCount))
        {
            notes.Add($"**saw {(int)runs[0]["tensors"]!} tensors, expected {tensorCount}**");
        }
        switch (key)
        {
            case "open" or "mmap-open":
                notes.Add($"RSS after open {Stats.Median(runs.Select(r => Seconds(r, "rss"))) / 1e6:N0} MB");
                notes.Add($"allocated per open {Stats.Median(runs.Select(r => Seconds(r, "allocated_bytes"))) / 1e6:N1} MB");
                break;
            case "read-each":
                notes.Add($"{Stats.Median(runs.Select(r => Seconds(r, "per_tensor_seconds"))) * 1e6:N2} µs per tensor, " +
                    $"{Stats.Median(runs.Select(r => Seconds(r, "allocated_bytes_per_tensor"))):N0} bytes allocated per tensor");
                break;
            case "copy" or "copy-seq" or "copy-managed" or "mmap":
                notes.Add($"open {Time(Stats.Median(runs.Select(r => Seconds(r, "open_seconds"))))}");
                if (key != "mmap" && key != "copy-seq")
                {
                    notes.Add($"Preload {Time(Stats.Median(runs.Select(r => Seconds(r, "preload_seconds"))))}");
                }
                notes.Add($"RSS before {Stats.Median(runs.Select(r => Seconds(r, "hwm_before"))) / 1e6:N0} MB");
                if (key == "mmap")
                {
                    notes.Add($"file-backed RSS after {Stats.Median(runs.Select(r => Seconds(r, "rss_file"))) / 1e6:N0} MB");
                }
                else
                {
                    notes.Add($"AnonHugePages {Stats.Median(runs.Select(r => Seconds(r, "anon_huge"))) / 1e6:N0} MB");
                }
                notes.Add($"Dispose {Time(Stats.Median(runs.Select(r => Seconds(r, "dispose_seconds"))))}");
                break;
            case "slice8" or "slice8-into" or "copy-into":
                notes.Add($"{Stats.Median(runs.Select(r => Seconds(r, "slice_bytes"))) / 1e6:N1} MB of {(key == "copy-into" ? "tensors" : "slices")}");
                break;
            case "convert-f32":
                notes.Add($"{Stats.Median(runs.Select(r => Seconds(r, "output_bytes"))) / 1e6:N1} MB of float32 out, " +
                    $"{Significant(Stats.Median(runs.Select(r => Seconds(r, "output_bytes") / Seconds(r, "seconds"))) / 1e9)} GB/s of output");
                break;
            case "torch-0" or "torch-1":
                notes.Add($"torch.load alone {Time(Stats.Median(runs.Select(r => Seconds(r, "load_seconds"))))}");
                notes.Add($"torch {(string?)runs[0]["torch"]}");
                break;
        }
        return string.Join("; ", notes);
    }

    /// <summary>Three significant digits (at least two decimals above 1): 13.2, 0.714, 0.00123.</summary>
    internal static string Significant(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            return "n/a";
        }
        if (value >= 100)
        {
            return value.ToString("N0", Invariant);
        }
        if (value >= 1)
        {
            return value.ToString("N2", Invariant);
        }
        int decimals = value <= 0 ? 2 : Math.Min(8, 2 - (int)Math.Floor(Math.Log10(value)));
        return value.ToString("F" + decimals, Invariant);
    }

    private static decimal? PageChecksum(JsonObject result)
    {
        if ((string?)result["touch"] != "pages" || result["checksum"] is not { } value)
        {
            return null;
        }
        // C# writes the wrapping 64-bit sum as hex; Python writes an integer.
        return value.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? ulong.Parse((string)value!, NumberStyles.HexNumber, Invariant)
            : (decimal)value;
    }

    internal static double Seconds(JsonObject result, string field) =>
        result[field] is { } value ? (double)value : double.NaN;

    internal static string Time(double seconds) => seconds switch
    {
        double.NaN => "n/a",
        < 1e-3 => string.Create(Invariant, $"{seconds * 1e6:N0} µs"),
        < 1 => string.Create(Invariant, $"{seconds * 1e3:N1} ms"),
        _ => string.Create(Invariant, $"{seconds:N2} s"),
    };

    private JsonObject Child(IReadOnlyList<string> command, string path) => Child(command, path, warm: true);

    /// <summary>Runs one measuring process (after reading the file once, unless the caller has just dropped the page cache).</summary>
    private JsonObject Child(IReadOnlyList<string> command, string path, bool warm)
    {
        if (warm)
        {
            WarmPageCache(path);
        }
        Progress("  " + string.Join(' ', command.Skip(command.Count > 1 && command[1].EndsWith(".dll", StringComparison.Ordinal) ? 2 : 1)));
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"'{string.Join(' ', command)}' exited with {process.ExitCode}:\n{stdout}");
        }
        var result = JsonNode.Parse(line["RESULT ".Length..])!.AsObject();
        Progress($"    {Time(result["seconds"] is { } s ? (double)s : double.NaN)}");
        return result;
    }

    private static List<string> SelfCommand(IEnumerable<string> args)
    {
        var command = new List<string> { Environment.ProcessPath! };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            command.Add(typeof(Table).Assembly.Location);
        }
        command.AddRange(args);
        return command;
    }

    /// <summary>Reads the whole file once, so every run starts from a warm page cache.</summary>
    private static void WarmPageCache(string path)
    {
        var buffer = new byte[16 << 20];
        using var file = System.IO.File.OpenHandle(path);
        long at = 0;
        int n;
        while ((n = RandomAccess.Read(file, buffer, at)) > 0)
        {
            at += n;
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', System.IO.File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Thp()
    {
        try
        {
            var text = System.IO.File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Trim();
            int open = text.IndexOf('['), close = text.IndexOf(']');
            return open >= 0 && close > open ? text[(open + 1)..close] : text;
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static void Progress(string message) => Console.Error.WriteLine(message);
}

internal sealed record TableOptions
{
    public string Directory { get; init; } = "/tmp/statedict-bench";
    public int Runs { get; init; } = 3;
    public int FreshRuns { get; init; } = 5;
    public bool Cold { get; init; } = true;
    public IReadOnlyList<string> Files { get; init; } = ["gpt2xl_fp32.pth", "gpt2xl_bf16.pth", "small20k.pth"];
    public IReadOnlyList<string> Modes { get; init; } = ["open", "copy", "mmap-open", "mmap"];
    public string? Python { get; init; } = "/usr/bin/python3";
    public string TorchScript { get; init; } = Path.Combine(AppContext.BaseDirectory, "torch_load.py");
    public string? Touch { get; init; }
}

/// <summary>One table row: runs warmed up inside the process, and runs whose timed work came first.</summary>
internal sealed record Row(string Key, List<JsonObject> Warm, List<JsonObject> Fresh);
