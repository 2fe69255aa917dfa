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
        if (head[0] == (byte)PickleOpcode.Proto)
        {
            RefusePlainPickle(file, limits);
        }
        throw new CheckpointFormatException(file.Path, "not a PyTorch checkpoint: it is neither a torch.save zip archive nor a legacy torch.save file");
    }

    /// <summary>
    /// A plain pickle (<c>pickle.dump</c> to .pkl): reading its tensors is not supported yet, but its globals are
    /// still checked so that a malicious or whole-model pickle is reported as such.
    /// </summary>
    private static void RefusePlainPickle(CheckpointFile file, CheckpointLimits limits)
    {
        var source = new PickleSource(file.Path, "pickle");
        var pickle = PickleMachine.Run(file.MapPrefix(limits.MaxPickleBytes), source, limits);
        const string loadFromBytes = "torch.storage._load_from_bytes";
        bool embedded = pickle.Globals.Any(g => g.FullName == loadFromBytes);
        AllowList.Check(pickle, source, tolerated: loadFromBytes);
        throw new CheckpointFormatException(file.Path, embedded
            ? "a plain pickle with tensors embedded by torch.storage._load_from_bytes (pickle.dump of a state_dict); reading these is not supported yet. Re-save it with torch.save(state_dict, path)."
            : "a plain Python pickle, not a torch.save checkpoint; reading plain pickles is not supported yet");
    }
}
