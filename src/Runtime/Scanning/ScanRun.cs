using System.Text.RegularExpressions;
using StateDict.Containers;
using StateDict.Pickle;
using StateDict.Safety;
using StateDict.Torch;

namespace StateDict;

/// <summary>One scan of one file: what it found so far, and the walk over containers, pickles and nested payloads.</summary>
internal sealed partial class ScanRun(string path, CheckpointLimits limits)
{
    private const int MaxStackedPickles = 16;
    private static readonly string[] LegacyPickles = ["magic number", "protocol version", "sys_info", "main", "storage keys"];

    private readonly List<PickleFinding> _pickles = [];

    public string FilePath => path;

    public CheckpointLimits Limits => limits;
    private readonly List<string> _unscanned = [];

    public ScanReport Report(string format, string? error)
    {
        bool unsafeFound = _pickles.SelectMany(p => p.Globals).Any(g => g.Risk != GlobalRisk.Allowed);
        var verdict = unsafeFound ? ScanVerdict.Unsafe : error is null && _unscanned.Count == 0 ? ScanVerdict.Clean : ScanVerdict.Unreadable;
        error ??= _unscanned.Count == 0 ? null : string.Join("; ", _unscanned);
        return new ScanReport(path, format, verdict, _pickles, error) { Unscanned = _unscanned };
    }

    public string File(CheckpointFile file, string part, int depth)
    {
        Span<byte> head = stackalloc byte[512];
        int length = (int)Math.Min(head.Length, file.Length);
        file.ReadExactly(0, head[..length], "the file header");
        head = head[..length];
        bool safetensors = SafetensorsContainer.HasSignature(file);
        if (head.StartsWith("PK\x03\x04"u8))
        {
            // torch.load takes any file that starts so for a zip archive, even a valid safetensors file whose header
            // length reads "PK\x03\x04": such a file is plain safetensors only if it is no zip and hid no pickle.
            int found = _pickles.Count;
            try
            {
                return new ArchiveScan(this, file, part, depth).Run();
            }
            catch (CheckpointException e) when (safetensors && e is not CheckpointUnsafeException && _pickles.Count == found)
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
                File(shard, Path.GetFileName(shardPath) + ": ", depth + 1);
            }
            return "sharded";
        }
        if (LegacyContainer.HasMagicNumber(head, file.Path, limits))
        {
            // torch.load reads a file whose first pickle is the legacy magic number as five pickles, in any protocol.
            Pickles(file.MapPrefix(limits.MaxPickleBytes), part + "legacy pickle", LegacyPickles.Length, CheckpointFormat.Legacy, depth);
            return "legacy";
        }
        var notAPickle = new CheckpointFormatException(file.Path, length == 0 ? "the file is empty" : "not a PyTorch checkpoint, pickle or safetensors file");
        if (length > 0 && head[0] == (byte)PickleOpcode.Proto)
        {
            int before = _pickles.Count;
            Pickles(file.MapPrefix(limits.MaxPickleBytes), part + "pickle", MaxStackedPickles, CheckpointFormat.Pickle, depth);
            // A padded magic number turns out to be a legacy file only once its first pickle has run.
            return _pickles.Skip(before).Any(p => p.Part.StartsWith(part + "legacy pickle", StringComparison.Ordinal)) ? "legacy" : "pickle";
        }
        if (length > 0 && ContainerDetector.MayStartUnframedPickle(head[0]))
        {
            // Protocol 0 and 1 pickles have no PROTO opcode; pickle.load still runs them.
            if (!Sniffed(file.MapPrefix(limits.MaxPickleBytes), part + "pickle", CheckpointFormat.Pickle, depth))
            {
                throw notAPickle; // Text or other data that only starts like a pickle.
            }
            return "pickle";
        }
        throw notAPickle;
    }

    /// <summary>Notes a part of the file that could not be scanned: the verdict can then not be clean.</summary>
    public void Unscanned(string part, string why) => _unscanned.Add($"unscanned member {part}: {why}");

    /// <summary>
    /// Scans <paramref name="data"/> if it is a pickle: true when the VM read it, or named a global Python could import
    /// before failing (Python would have imported it by then); false, with nothing recorded, when it fails without
    /// naming one (text such as TorchScript's <c>class Net(Module):</c> source "names" <c>lass Net(Module):</c>).
    /// </summary>
    public bool Sniffed(ReadOnlySpan<byte> data, string part, CheckpointFormat format, int depth)
    {
        int found = _pickles.Count;
        try
        {
            Pickles(data, part, MaxStackedPickles, format, depth);
            return true;
        }
        catch (CheckpointException e) when (e is not CheckpointUnsafeException
            && !_pickles.Skip(found).SelectMany(p => p.Globals).Any(g => GlobalPolicy.CouldBeImported(g.Name)))
        {
            _pickles.RemoveRange(found, _pickles.Count - found);
            return false;
        }
    }

    /// <summary>Runs consecutive pickles from the start of <paramref name="data"/> (legacy files hold five; a plain pickle may hide more behind the first).</summary>
    public void Pickles(ReadOnlySpan<byte> data, string part, int maxPickles, CheckpointFormat format, int depth)
    {
        var policy = new ReadPolicy(format);
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
            var source = new PickleSource(path, name);
            PickleResult result;
            var seen = new List<PyGlobal>();
            try
            {
                result = PickleMachine.Run(data[position..], source, limits, seen);
            }
            catch (CheckpointUnsafeException e)
            {
                var refused = e.RefusedGlobals.Select(g => new GlobalFinding(g, position, GlobalRisk.CodeExecution, e.Problem)).ToList();
                _pickles.Add(new PickleFinding(name, 0, seen.Select(g => Classify(g, policy, unscannedPayloads: true)).Concat(refused).ToList(), new Dictionary<string, int>()));
                return;
            }
            catch (CheckpointException)
            {
                // A dangerous call followed by garbage still runs in Python before the error: report what was named.
                // (Not an exception filter: the VM hands over the globals in a finally, which runs after filters.)
                if (seen.Count > 0)
                {
                    _pickles.Add(new PickleFinding(name, 0, seen.Select(g => Classify(g, policy, unscannedPayloads: true)).ToList(), new Dictionary<string, int>()));
                }
                throw;
            }
            if (i == 0 && maxPickles == MaxStackedPickles && LegacyContainer.IsMagicNumber(result.Root))
            {
                // A legacy file whose magic number did not fit the header (padded, another protocol): torch.load reads on.
                Pickles(data, part.EndsWith("pickle", StringComparison.Ordinal) ? part[..^"pickle".Length] + "legacy pickle" : part, LegacyPickles.Length, CheckpointFormat.Legacy, depth);
                return;
            }
            var findings = result.Globals.Select(g => Classify(g, policy, unscannedPayloads: false)).ToList();
            _pickles.Add(new PickleFinding(name, result.Protocol, findings, result.Calls));
            new PayloadScan(this, limits).Run(result, name, findings, depth);
            position += result.EndPosition;
        }
    }

    /// <summary>
    /// The shared policy's rating. <c>_load_from_bytes</c> is allowed only when its payloads get scanned: in a pickle
    /// that breaks before its end they cannot be, and Python would already have run them.
    /// </summary>
    private static GlobalFinding Classify(PyGlobal global, ReadPolicy policy, bool unscannedPayloads)
    {
        var decision = policy.Decide(global);
        if (unscannedPayloads && decision.Kind == GlobalKind.NestedPayload)
        {
            return new GlobalFinding(global.FullName, global.Offset, GlobalRisk.CodeExecution,
                "a nested torch.save payload in a pickle that breaks before its end: Python would already have unpickled it, and it was not scanned");
        }
        return new GlobalFinding(global.FullName, global.Offset, decision.Risk, decision.Reason);
    }
}
