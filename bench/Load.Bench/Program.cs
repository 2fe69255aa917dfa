using BenchmarkDotNet.Running;
using StateDict.LoadBench;

// dotnet bench/Load.Bench/.../StateDict.Load.Bench.dll [table options]   the load table (bench/run.sh runs this)
//   --dir D            the checkpoints (default /tmp/statedict-bench; written by bench/make_checkpoints.py)
//   --runs N           warm runs per row, medians reported (default 3)
//   --fresh-runs N     fresh-process runs per row (default 5)
//   --cold yes|no      the cold-page-cache rows (default yes; they drop the page cache, so they need root)
//   --files a,b        file names within D (default gpt2xl_fp32.pth,gpt2xl_bf16.pth,small20k.pth)
//   --modes a,b        open, copy, copy-seq, copy-managed, mmap-open, mmap, read-each (default open,copy,mmap-open,mmap)
//   --python P|none    the Python with torch for the torch.load rows (default /usr/bin/python3)
//   --touch pages|bytes  how copy-mode and torch.load rows touch the bytes (default pages; mmap always reads every byte)
// ... measure MODE FILE [--repetitions N] [--touch pages|bytes] [--fresh]    one measurement (what the table runs per run);
//     --fresh: the timed work is the first thing the process does (JIT, first touch included)
// ... --check-big FILE   read bench/make_big_zip64.py's >4 GiB file in every memory mode and check PyTorch's SHA-256s
// ... --bdn [BenchmarkDotNet arguments]    pickle VM and 20,000-tensor open micro-benchmarks (STATEDICT_BENCH_DIR)
if (args.Length > 0 && args[0] == "--bdn")
{
    BenchmarkSwitcher.FromAssembly(typeof(Small20kBenchmarks).Assembly).Run(args[1..]);
    return 0;
}
if (args is ["--check-big", var bigFile])
{
    return BigFileCheck.Run(bigFile);
}
if (args.Length > 0 && args[0] == "measure")
{
    if (args.Length < 3)
    {
        Console.Error.WriteLine("usage: measure MODE FILE [--repetitions N] [--touch pages|bytes] [--fresh]");
        return 2;
    }
    return Measure.Run(args[1], args[2], int.Parse(Option(args, "--repetitions") ?? "3"), Option(args, "--touch"), args.Contains("--fresh"));
}
string[] known = ["--dir", "--runs", "--fresh-runs", "--cold", "--files", "--modes", "--python", "--touch"];
for (int i = 0; i < args.Length; i += 2)
{
    if (!known.Contains(args[i]) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"unexpected argument '{args[i]}'; the table takes {string.Join(", ", known)} (each with a value), or 'measure ...', or '--bdn ...'");
        return 2;
    }
}
if (Option(args, "--touch") is { } t && t is not ("pages" or "bytes"))
{
    Console.Error.WriteLine("--touch is pages or bytes");
    return 2;
}
var options = new TableOptions();
if (Option(args, "--dir") is { } dir)
{
    options = options with { Directory = dir };
}
if (Option(args, "--runs") is { } runs)
{
    options = options with { Runs = int.Parse(runs) };
}
if (Option(args, "--fresh-runs") is { } freshRuns)
{
    options = options with { FreshRuns = int.Parse(freshRuns) };
}
if (Option(args, "--cold") is { } cold)
{
    options = options with { Cold = cold != "no" };
}
if (Option(args, "--files") is { } files)
{
    options = options with { Files = files.Split(',', StringSplitOptions.RemoveEmptyEntries) };
}
if (Option(args, "--modes") is { } modes)
{
    options = options with { Modes = modes.Split(',', StringSplitOptions.RemoveEmptyEntries) };
    if (options.Modes.FirstOrDefault(m => !Measure.Modes.Contains(m) || m == "limits") is { } unknown)
    {
        Console.Error.WriteLine($"unknown mode '{unknown}'");
        return 2;
    }
}
if (Option(args, "--python") is { } python)
{
    options = options with { Python = python == "none" ? null : python };
}
if (Option(args, "--touch") is { } touch)
{
    options = options with { Touch = touch };
}
return new Table(options).Run();

static string? Option(string[] args, string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
