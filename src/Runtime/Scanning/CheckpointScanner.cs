using StateDict.Containers;
using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict;

/// <summary>
/// Lists every global the pickles of a file reference, with a risk for each, like picklescan or fickling but for
/// the files StateDict reads: zip checkpoints and TorchScript archives (every <c>.pkl</c> record), legacy files (all
/// five pickles), plain pickles (and pickles stacked after them), safetensors (no pickle), and the torch.save
/// payloads nested behind <c>torch.storage._load_from_bytes</c>. Nothing is executed or imported.
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
    private const int MaxNestedDepth = 3;
    private const int MaxStackedPickles = 16;
    private static readonly string[] LegacyPickles = ["magic number", "protocol version", "sys_info", "main", "storage keys"];

    /// <summary>Scans one file. Never throws for a bad file: an unreadable one gets <see cref="ScanVerdict.Unreadable"/>.</summary>
    public static ScanReport Scan(string path, CheckpointLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        limits ??= CheckpointLimits.Default;
        var pickles = new List<PickleFinding>();
        string format = "unknown";
        try
        {
            using var file = new CheckpointFile(path);
            format = ScanFile(file, "", pickles, limits, depth: 0);
            return Report(path, format, pickles, null);
        }
        catch (CheckpointException e)
        {
            return Report(path, format, pickles, e.Problem);
        }
    }

    private static ScanReport Report(string path, string format, List<PickleFinding> pickles, string? error)
    {
        bool unsafeFound = pickles.SelectMany(p => p.Globals).Any(g => g.Risk != GlobalRisk.Allowed);
        var verdict = unsafeFound ? ScanVerdict.Unsafe : error is null ? ScanVerdict.Clean : ScanVerdict.Unreadable;
        return new ScanReport(path, format, verdict, pickles, error);
    }

    private static string ScanFile(CheckpointFile file, string part, List<PickleFinding> pickles, CheckpointLimits limits, int depth)
    {
        Span<byte> head = stackalloc byte[16];
        int length = (int)Math.Min(head.Length, file.Length);
        file.ReadExactly(0, head[..length], "the file header");
        head = head[..length];
        bool safetensors = SafetensorsContainer.HasSignature(file);
        if (head.StartsWith("PK\x03\x04"u8))
        {
            // torch.load takes any file that starts so for a zip archive, even a valid safetensors file whose header
            // length reads "PK\x03\x04": such a file is plain safetensors only if it is no zip.
            int found = pickles.Count;
            try
            {
                return ScanZip(file, part, pickles, limits, depth);
            }
            catch (CheckpointException e) when (safetensors && e is not CheckpointUnsafeException && pickles.Count == found)
            {
                return "safetensors";
            }
        }
        if (safetensors)
        {
            return "safetensors";
        }
        if (depth == 0 && part.Length == 0 && ShardedContainer.HasSignature(head))
        {
            // A sharded index: scan every shard it names (paths checked to stay in the index's folder).
            foreach (string shardPath in ShardedContainer.ShardPaths(file, limits))
            {
                using var shard = new CheckpointFile(shardPath);
                ScanFile(shard, Path.GetFileName(shardPath) + ": ", pickles, limits, depth + 1);
            }
            return "sharded";
        }
        if (head.StartsWith(LegacyContainer.Signature))
        {
            ScanPickles(file.Path, file.MapPrefix(limits.MaxPickleBytes), part + "legacy pickle", LegacyPickles.Length, pickles, limits, depth);
            return "legacy";
        }
        if (length > 0 && head[0] == (byte)PickleOpcode.Proto)
        {
            ScanPickles(file.Path, file.MapPrefix(limits.MaxPickleBytes), part + "pickle", MaxStackedPickles, pickles, limits, depth);
            return "pickle";
        }
        var notAPickle = new CheckpointFormatException(file.Path, length == 0 ? "the file is empty" : "not a PyTorch checkpoint, pickle or safetensors file");
        if (length > 0 && ContainerDetector.MayStartUnframedPickle(head[0]))
        {
            // Protocol 0 and 1 pickles have no PROTO opcode; pickle.load still runs them.
            int found = pickles.Count;
            try
            {
                ScanPickles(file.Path, file.MapPrefix(limits.MaxPickleBytes), part + "pickle", MaxStackedPickles, pickles, limits, depth);
            }
            catch (CheckpointException e) when (e is not CheckpointUnsafeException && pickles.Count == found)
            {
                throw notAPickle; // Text or other data that only starts like a pickle.
            }
            return "pickle";
        }
        throw notAPickle;
    }

    private static string ScanZip(CheckpointFile file, string part, List<PickleFinding> pickles, CheckpointLimits limits, int depth)
    {
        using var records = ZipRecords.Open(file, limits);
        var names = records.Names.Where(n => n.EndsWith(".pkl", StringComparison.Ordinal) || n.EndsWith("debug_pkl", StringComparison.Ordinal)).ToList();
        foreach (var name in names)
        {
            ScanPickles(file.Path, records.View(name, limits.MaxPickleBytes, "CheckpointLimits.MaxPickleBytes"), part + name, 1, pickles, limits, depth);
        }
        return names.Any(n => n.EndsWith("/constants.pkl", StringComparison.Ordinal)) ? "torchscript" : "zip";
    }

    /// <summary>Runs consecutive pickles from the start of <paramref name="data"/> (legacy files hold five; a plain pickle may hide more behind the first).</summary>
    private static void ScanPickles(string filePath, ReadOnlySpan<byte> data, string part, int maxPickles, List<PickleFinding> pickles, CheckpointLimits limits, int depth)
    {
        int position = 0;
        for (int i = 0; i < maxPickles && position < data.Length; i++)
        {
            if (i > 0 && data[position] != (byte)PickleOpcode.Proto && maxPickles == MaxStackedPickles)
            {
                return; // Trailing bytes that are not another pickle: Python never reads them.
            }
            string name = maxPickles == LegacyPickles.Length ? $"{part} ({LegacyPickles[i]}, byte {position})"
                : i == 0 ? part
                : $"{part} #{i + 1} (stacked at byte {position})";
            var source = new PickleSource(filePath, name);
            PickleResult result;
            var seen = new List<PyGlobal>();
            try
            {
                result = PickleMachine.Run(data[position..], source, limits, seen);
            }
            catch (CheckpointUnsafeException e)
            {
                var refused = e.RefusedGlobals.Select(g => new GlobalFinding(g, position, GlobalRisk.CodeExecution, e.Problem)).ToList();
                pickles.Add(new PickleFinding(name, 0, seen.Select(GlobalRisks.Classify).Concat(refused).ToList(), new Dictionary<string, int>()));
                return;
            }
            catch (CheckpointException)
            {
                // A dangerous call followed by garbage still runs in Python before the error: report what was named.
                // (Not an exception filter: the VM hands over the globals in a finally, which runs after filters.)
                if (seen.Count > 0)
                {
                    pickles.Add(new PickleFinding(name, 0, seen.Select(GlobalRisks.Classify).ToList(), new Dictionary<string, int>()));
                }
                throw;
            }
            pickles.Add(new PickleFinding(name, result.Protocol, result.Globals.Select(GlobalRisks.Classify).ToList(), result.Calls));
            if (result.Globals.Any(g => g.FullName == AllowList.LoadFromBytes))
            {
                ScanNested(filePath, result.Root, name, pickles, limits, depth);
            }
            position += result.EndPosition;
        }
    }

    /// <summary>Scans the torch.save bytes passed to <c>torch.storage._load_from_bytes</c> as files of their own.</summary>
    private static void ScanNested(string filePath, object root, string part, List<PickleFinding> pickles, CheckpointLimits limits, int depth)
    {
        if (depth >= MaxNestedDepth)
        {
            throw new CheckpointCorruptException(filePath, $"{part}: torch.save payloads nested more than {MaxNestedDepth} deep");
        }
        int index = 0;
        foreach (var payload in NestedPayloads(root, limits.MaxEntries))
        {
            string nestedPart = $"{part} → _load_from_bytes payload {index++}: ";
            if (payload.AsSpan().StartsWith("PK\x03\x04"u8))
            {
                string temporary = Path.Combine(Path.GetTempPath(), $"statedict-scan-{Guid.NewGuid():N}.pt");
                try
                {
                    File.WriteAllBytes(temporary, payload);
                    using var nested = new CheckpointFile(temporary);
                    ScanFile(nested, nestedPart, pickles, limits, depth + 1);
                }
                finally
                {
                    File.Delete(temporary);
                }
            }
            else
            {
                ScanPickles(filePath, payload, nestedPart + "legacy pickle", LegacyPickles.Length, pickles, limits, depth + 1);
            }
        }
    }

    /// <summary>
    /// The byte arguments of every <c>_load_from_bytes</c> call, found by a bounded walk of the unpickled data. A bytes
    /// object passed to many calls (through the memo) is scanned once: each scan costs its size, each call a few bytes.
    /// </summary>
    private static IEnumerable<byte[]> NestedPayloads(object root, int budget)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var scanned = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object>();
        pending.Push(root);
        while (pending.Count > 0 && seen.Count < budget)
        {
            var node = pending.Pop();
            if (!seen.Add(node))
            {
                continue;
            }
            if (node is PyCall { Global.FullName: AllowList.LoadFromBytes, Args.Items: [var argument] } && IsBytes(argument))
            {
                // The same bytes object (or latin-1 text) is the same payload: converted and scanned once.
                if (scanned.Add(argument is PyCall { Args.Items: [string text, _] } ? text : argument))
                {
                    yield return Bytes(argument)!;
                }
                continue;
            }
            foreach (var child in Children(node))
            {
                pending.Push(child);
            }
        }
    }

    private static bool IsBytes(object value) => value is PyBytes or PyCall { Global.FullName: AllowList.CodecsEncode, Args.Items: [string, string] };

    private static byte[]? Bytes(object value) => value switch
    {
        PyBytes bytes => bytes.Data,
        PyCall { Global.FullName: AllowList.CodecsEncode, Args.Items: [string text, string] } => System.Text.Encoding.Latin1.GetBytes(text),
        _ => null,
    };

    private static IEnumerable<object> Children(object node) => node switch
    {
        PyTuple t => t.Items,
        PyList l => l.Items,
        PySet s => s.Items,
        PyDict d => d.Items.SelectMany(p => new[] { p.Key, p.Value }),
        PyCall c => new[] { c.Callable, c.Args }.Concat(c.States).Concat(c.Appended).Concat(c.SetItems.SelectMany(p => new[] { p.Key, p.Value })),
        PyPersistentId p => [p.Id],
        _ => [],
    };
}
