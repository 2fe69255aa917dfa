using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Containers;

/// <summary>Decides what a file is from its first bytes, the way <c>torch.load</c> does, and opens it.</summary>
internal static class ContainerDetector
{
    public static IContainer Open(CheckpointFile file, CheckpointLimits limits)
    {
        Span<byte> head = stackalloc byte[512];
        int length = (int)Math.Min(head.Length, file.Length);
        file.ReadExactly(0, head[..length], "the file header");
        head = head[..length];

        if (head.StartsWith("PK\x03\x04"u8))
        {
            return ZipContainer.Open(file, limits);
        }
        if (head.StartsWith(LegacyContainer.Signature))
        {
            return LegacyContainer.Open(file, limits);
        }
        if (length == 0)
        {
            throw new CheckpointFormatException(file.Path, "the file is empty: not a PyTorch checkpoint");
        }
        if (length >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8))
        {
            throw new CheckpointFormatException(file.Path, "tar checkpoints (PyTorch 0.1.x) are not supported");
        }
        var notACheckpoint = new CheckpointFormatException(file.Path, "not a PyTorch checkpoint: it is neither a torch.save zip archive nor a legacy torch.save file");
        if (head[0] == (byte)PickleOpcode.Proto)
        {
            RefusePlainPickle(file, limits);
        }
        if (MayStartUnframedPickle(head[0]))
        {
            PickleResult pickle;
            try
            {
                pickle = PickleMachine.Run(file.MapPrefix(limits.MaxPickleBytes), new PickleSource(file.Path, "pickle"), limits);
            }
            catch (CheckpointException e) when (e is not CheckpointUnsafeException)
            {
                throw notACheckpoint; // Not a pickle after all: text or other data that happens to start like one.
            }
            RefusePlainPickle(file, limits, pickle);
        }
        throw notACheckpoint;
    }

    /// <summary>
    /// Whether <paramref name="first"/> can begin a protocol 0 or 1 pickle, which has no PROTO opcode: a MARK or an
    /// opcode pushing a value (<c>pickle.dump(obj, f, protocol=0)</c> of a dict starts "(dp0", of a call "c").
    /// </summary>
    public static bool MayStartUnframedPickle(byte first) => "(c}])NILFSVPJKMGTUX".Contains((char)first, StringComparison.Ordinal);

    /// <summary>
    /// A plain pickle (<c>pickle.dump</c> to .pkl): reading its tensors is not supported yet, but its globals are
    /// still checked so that a malicious or whole-model pickle is reported as such.
    /// </summary>
    private static void RefusePlainPickle(CheckpointFile file, CheckpointLimits limits, PickleResult? pickle = null)
    {
        var source = new PickleSource(file.Path, "pickle");
        pickle ??= PickleMachine.Run(file.MapPrefix(limits.MaxPickleBytes), source, limits);
        const string loadFromBytes = "torch.storage._load_from_bytes";
        bool embedded = pickle.Globals.Any(g => g.FullName == loadFromBytes);
        AllowList.Check(pickle, source, tolerated: loadFromBytes);
        RefuseHiddenGlobals(file, limits);
        throw new CheckpointFormatException(file.Path, embedded
            ? "a plain pickle with tensors embedded by torch.storage._load_from_bytes (pickle.dump of a state_dict); reading these is not supported yet. Re-save it with torch.save(state_dict, path)."
            : "a plain Python pickle, not a torch.save checkpoint; reading plain pickles is not supported yet");
    }

    /// <summary>
    /// What the first pickle's globals do not show: pickles stacked behind it (<c>torch.load</c> reads five from a
    /// legacy file written with a protocol other than 2, which lacks the usual signature) and the torch.save bytes
    /// embedded behind the tolerated <c>_load_from_bytes</c>. The scanner reads both; any unsafe global refuses the file.
    /// </summary>
    private static void RefuseHiddenGlobals(CheckpointFile file, CheckpointLimits limits)
    {
        var report = CheckpointScanner.Scan(file.Path, limits);
        var found = report.Pickles.SelectMany(p => p.Globals.Where(g => g.Risk != GlobalRisk.Allowed).Select(g => (p.Part, Global: g))).ToList();
        if (found.Count == 0)
        {
            return;
        }
        var names = found.Select(f => f.Global.Name).Distinct().ToList();
        string listed = string.Join(", ", found.Select(f => $"{f.Global.Name} ({f.Part}, byte {f.Global.Offset})"));
        throw new CheckpointUnsafeException(file.Path,
            $"refused: a pickle stacked behind or embedded in the first one references {(names.Count == 1 ? "a global" : "globals")} outside the allow-list: {listed}. " +
            $"Loading it with Python's pickle or torch.load would import and call {(names.Count == 1 ? "it" : "them")}; StateDict executed nothing.",
            names);
    }
}
