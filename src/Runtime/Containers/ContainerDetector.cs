using StateDict.Pickle;
using StateDict.Safety;
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

        if (SafetensorsContainer.HasSignature(file))
        {
            return SafetensorsContainer.Open(file, limits); // first: a valid header may hold "ustar" at 257, its length may read "PK\x03\x04"
        }
        if (head.StartsWith("PK\x03\x04"u8))
        {
            return ZipContainer.Open(file, limits);
        }
        if (LegacyContainer.HasMagicNumber(head, file.Path, limits))
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
        if (ShardedContainer.HasSignature(head))
        {
            return ShardedContainer.Open(file, limits);
        }
        if (SafetensorsContainer.LooksDamaged(head))
        {
            return SafetensorsContainer.Open(file, limits); // '{' after a damaged length or a byte-order mark: say what is wrong
        }
        var notACheckpoint = new CheckpointFormatException(file.Path, length < 8
            ? $"not a PyTorch checkpoint: the file has only {length} bytes, too few for a torch.save archive or a safetensors header length (8 bytes)"
            : "not a PyTorch checkpoint: it is neither a torch.save zip archive nor a legacy torch.save file");
        if (head[0] == (byte)PickleOpcode.Proto)
        {
            return PickleContainer.Open(file, limits);
        }
        if (MayStartUnframedPickle(head[0]))
        {
            PickleResult pickle;
            try
            {
                var policy = new ReadPolicy(CheckpointFormat.Pickle);
                pickle = PickleMachine.Run(file.MapPrefix(limits.MaxPickleBytes), new PickleSource(file.Path, "pickle"), limits,
                    refused: g => policy.Refuses(g) && GlobalPolicy.CouldBeImported(g.FullName));
            }
            catch (CheckpointException e) when (e is not CheckpointUnsafeException)
            {
                // Not a pickle after all: text or other data that happens to start like one (unless it named an importable
                // global outside the allow-list first: pickle.load would have imported it, so that is reported as unsafe).
                throw notACheckpoint;
            }
            return PickleContainer.Open(file, limits, pickle);
        }
        throw notACheckpoint;
    }

    /// <summary>
    /// Whether <paramref name="first"/> can begin a protocol 0 or 1 pickle, which has no PROTO opcode: a MARK or an
    /// opcode pushing a value (<c>pickle.dump(obj, f, protocol=0)</c> of a dict starts "(dp0", of a call "c").
    /// </summary>
    public static bool MayStartUnframedPickle(byte first) => "(c}])NILFSVPJKMGTUX".Contains((char)first, StringComparison.Ordinal);
}
