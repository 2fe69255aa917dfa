using SharpFuzz;

namespace StateDict.Fuzz;

/// <summary>
/// AFL++ harness: each input is written to a file (Checkpoint.Open reads files, not streams), opened, and every
/// tensor and plain value read, as a caller would. The contract under test: this either succeeds or throws a
/// <see cref="CheckpointException"/> from a deliberate check. Anything else escapes and AFL records a crash:
/// another exception type, an <see cref="OutOfMemoryException"/> (run.sh caps the GC heap), a stack overflow, and a
/// <see cref="CheckpointException"/> that only <see cref="Checkpoint.Open"/>'s catch-all produced ("unreadable
/// checkpoint: ..."), which hides an unchecked case the same way the hostile tests treat it (its inner exception is
/// rethrown). AFL's -t timeout records hangs.
/// </summary>
/// <remarks>
/// <c>dotnet StateDict.Fuzz.dll FILE...</c> runs the same check on files, in every memory mode, and prints each outcome
/// (triage, no AFL);
/// <c>--seeds DIR</c> writes the hand-made seeds of <see cref="Seeds"/>.
/// </remarks>
public static class Program
{
    /// <summary>
    /// The default limits, except <see cref="CheckpointLimits.MaxPickleBytes"/>: 16 MiB instead of 1 GiB, so a small
    /// deflated data.pkl that inflates 1000:1 costs milliseconds, not seconds. Every check still runs with the same
    /// semantics, and the other budgets are bounded by the pickle's size anyway (visits, memo, stack, marks).
    /// </summary>
    public static readonly CheckpointLimits Limits = CheckpointLimits.Default with { MaxPickleBytes = 16 << 20 };

    /// <summary>
    /// The memory mode an input is read with: chosen by its length (deterministic, so AFL sees stable runs), so that
    /// the default (Auto: managed arrays for small files), the zero-copy mapping and the native arena are all fuzzed.
    /// </summary>
    public static TensorMemory ModeFor(long length) => (length % 3) switch
    {
        0 => TensorMemory.Auto,
        1 => TensorMemory.MemoryMapped,
        _ => TensorMemory.NativeArena,
    };

    public static int Main(string[] args)
    {
        if (args is ["--seeds", var directory])
        {
            return Seeds.Write(directory);
        }
        if (args.Length > 0)
        {
            return Triage(args);
        }
        string? path = null;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Delete(path);
        Fuzzer.OutOfProcess.Run(stream =>
        {
            // Unique per process: SharpFuzz runs the target in a child process, and other fuzzers may share /dev/shm.
            path ??= System.IO.Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath(),
                $"statedict-fuzz-{Environment.ProcessId}.pth");
            long length;
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                stream.CopyTo(file);
                length = file.Length;
            }
            Check(path, ModeFor(length), out _);
        });
        return 0;
    }

    /// <summary>Opens and reads everything; returns the deliberate <see cref="CheckpointException"/>, if any, and lets anything else escape.</summary>
    private static CheckpointException? Check(string path, TensorMemory mode, out string summary)
    {
        summary = "";
        try
        {
            using var checkpoint = Checkpoint.Open(path, new LoadOptions { Limits = Limits, Memory = mode });
            summary = $"{checkpoint.Format}, {checkpoint.Tensors.Count} tensors, {checkpoint.Values.Count} values";
            foreach (var (key, info) in checkpoint.Tensors)
            {
                _ = info.ToString();
                _ = checkpoint.ReadBytes(key);
            }
            foreach (var (key, value) in checkpoint.Values)
            {
                _ = key.Length + (value?.ToString()?.Length ?? 0);
            }
            return null;
        }
        catch (CheckpointException e) when (e.Problem.StartsWith("unreadable checkpoint:", StringComparison.Ordinal) && e.InnerException is { } inner)
        {
            // Only Checkpoint.Open's catch-all made this typed: an unchecked case. Surface the real exception.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }
        catch (CheckpointException e)
        {
            return e;
        }
    }

    /// <summary>Runs each file in every memory mode (the fuzzer used only <see cref="ModeFor"/> its length) and prints each outcome.</summary>
    private static int Triage(string[] files)
    {
        int bad = 0;
        foreach (string file in files)
        {
            string? firstStack = null;
            foreach (var mode in Enum.GetValues<TensorMemory>())
            {
                string label = $"{file} [{mode}{(File.Exists(file) && ModeFor(new FileInfo(file).Length) == mode ? ", as fuzzed" : "")}]";
                try
                {
                    var error = Check(file, mode, out string summary);
                    Console.WriteLine(error is null ? $"OK    {label}: {summary}" : $"typed {label}: {error.GetType().Name}: {error.Problem}");
                }
                catch (Exception e)
                {
                    bad++;
                    // The whole trace once per file; the other modes' usually repeat it.
                    Console.WriteLine($"BUG   {label}: {(firstStack is null ? e.ToString() : $"{e.GetType().FullName}: {e.Message}")}");
                    firstStack ??= e.StackTrace ?? "";
                }
            }
        }
        return bad == 0 ? 0 : 1;
    }

    private static void Delete(string? path)
    {
        try
        {
            if (path is not null)
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
