using System.Buffers.Binary;
using System.Numerics;
using StateDict.Pickle;

namespace StateDict.Containers;

/// <summary>
/// The pre-1.6 format: five concatenated pickles (magic number, protocol version, sys_info, the object,
/// the storage keys), then for each key in that list an int64 element count and the storage's raw bytes.
/// Offsets are not stored: they follow from each storage's dtype, known only after the main pickle is read.
/// </summary>
internal sealed class LegacyContainer : IContainer
{
    /// <summary>What the first pickle of a legacy file holds (<c>torch.serialization.MAGIC_NUMBER</c>).</summary>
    public static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>PROTO 2, LONG1 of 10 bytes holding <see cref="MagicNumber"/>: how every legacy file begins.</summary>
    public static ReadOnlySpan<byte> Signature => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    /// <summary>
    /// Whether <paramref name="head"/> (a file's first bytes) begins with a pickle of <see cref="MagicNumber"/> in any
    /// protocol (<c>torch.save(..., pickle_protocol=N)</c> writes it as LONG1 for 2 to 5, as <c>L...L</c> text for 0 and 1;
    /// <c>torch.load</c> accepts any pickle whose value equals it). Such a file is legacy, never a plain pickle.
    /// </summary>
    public static bool HasMagicNumber(ReadOnlySpan<byte> head, string path, CheckpointLimits limits)
    {
        if (head.StartsWith(Signature))
        {
            return true;
        }
        try
        {
            return IsMagicNumber(PickleMachine.Run(head, new PickleSource(path, "first pickle"), limits).Root);
        }
        catch (CheckpointException)
        {
            return false; // Longer than the head, or not a pickle: whoever reads the file next says what it is.
        }
    }

    /// <summary>Whether a pickle's value is <see cref="MagicNumber"/>, as Python's <c>==</c> compares it with an int.</summary>
    public static bool IsMagicNumber(object root) => root is BigInteger m && m == MagicNumber;

    /// <summary>What the second pickle of a legacy file holds (<c>torch.serialization.PROTOCOL_VERSION</c>).</summary>
    public const long ProtocolVersion = 1001;

    private static readonly Torch.ReadPolicy LegacyPolicy = new(CheckpointFormat.Legacy);

    private readonly CheckpointFile _file;
    private readonly List<string> _keys = [];
    private readonly long _storagesStart;
    private readonly MainPickle _pickle;

    private LegacyContainer(CheckpointFile file, CheckpointLimits limits)
    {
        _file = file;
        var bytes = file.MapPrefix(limits.MaxPickleBytes);
        int position = 0;
        var magic = Next(bytes, ref position, "magic number", limits).Root;
        if (!IsMagicNumber(magic))
        {
            throw new CheckpointFormatException(file.Path, "invalid magic number: not a legacy PyTorch checkpoint");
        }
        var protocol = Next(bytes, ref position, "protocol version", limits).Root;
        if (protocol is not long p || p != ProtocolVersion)
        {
            throw new CheckpointFormatException(file.Path, $"legacy protocol version {protocol} is not supported (expected {ProtocolVersion})");
        }
        Next(bytes, ref position, "sys_info", limits);
        MainSource = new PickleSource(file.Path, $"legacy main pickle (starting at byte {position})");
        var main = Next(bytes, ref position, null, limits);
        _pickle = new MainPickle(main, MainSource);
        var keys = NextAfterMain(bytes, ref position, main, limits);
        if (keys is not PyList list || list.Items.Any(k => k is not string))
        {
            throw new CheckpointCorruptException(file.Path, $"legacy storage key list is a {PyValue.TypeName(keys)}, not a list of strings");
        }
        _keys.AddRange(list.Items.Cast<string>());
        _storagesStart = position;
    }

    public CheckpointFormat Format => CheckpointFormat.Legacy;

    public PickleSource MainSource { get; }

    // torch's legacy writer converts sizes and data to little-endian whatever the machine
    // (sys_info's little_endian records the writer's machine, not the data), so there is nothing to swap.
    public bool BigEndian => false;

    public static LegacyContainer Open(CheckpointFile file, CheckpointLimits limits) => new(file, limits);

    public IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages)
    {
        var declared = storages.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var located = new Dictionary<string, StorageLocation>(storages.Count, StringComparer.Ordinal);
        long position = _storagesStart;
        Span<byte> header = stackalloc byte[8];
        foreach (string key in _keys)
        {
            if (!declared.TryGetValue(key, out var storage))
            {
                throw new CheckpointCorruptException(_file.Path, $"the storage key list names '{key}', which no persistent id in the pickle declares");
            }
            if (located.ContainsKey(key))
            {
                throw new CheckpointCorruptException(_file.Path, $"the storage key list names '{key}' twice");
            }
            _file.ReadExactly(position, header, $"the element count of storage '{key}'");
            long count = BinaryPrimitives.ReadInt64LittleEndian(header);
            if (count < 0 || count > long.MaxValue / storage.ElementSize || count * storage.ElementSize != storage.ByteLength)
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"storage '{key}' at byte {position} records {count} elements but the pickle declares {storage.ByteLength / storage.ElementSize}");
            }
            long offset = position + 8;
            if (storage.ByteLength > _file.Length - offset)
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"storage '{key}' needs {storage.ByteLength} bytes at byte {offset} but the file has {_file.Length} (truncated?)");
            }
            located.Add(key, new StorageLocation(key, $"legacy storage '{key}'", offset, storage.ByteLength, Compressed: false));
            position = offset + storage.ByteLength;
        }
        foreach (var storage in storages)
        {
            if (!located.ContainsKey(storage.Key))
            {
                throw new CheckpointCorruptException(_file.Path, $"storage '{storage.Key}' (declared at byte {storage.PickleOffset}) is missing from the storage key list");
            }
        }
        return located;
    }

    public void ReadStorage(StorageLocation location, long start, Span<byte> destination) =>
        _file.ReadExactly(location.Offset + start, destination, location.Record);

    public Torch.TorchTree ReadTree(CheckpointLimits limits) => _pickle.ReadTree(limits, new Torch.ReadPolicy(Format));

    public Torch.TorchTree ReadTreeAllowingModulePickles(CheckpointLimits limits) =>
        _pickle.ReadTree(limits, new Torch.ReadPolicy(Format, AllowModulePickles: true));

    public void Dispose()
    {
        // The file belongs to the checkpoint.
    }

    /// <summary>
    /// The storage key list. Python imports the main pickle's globals before it reads this one: if it is unreadable, a
    /// global the main pickle names outside the allow-list is what the file is refused for.
    /// </summary>
    private object NextAfterMain(ReadOnlySpan<byte> bytes, ref int position, PickleResult main, CheckpointLimits limits)
    {
        try
        {
            return Next(bytes, ref position, "storage key list", limits).Root;
        }
        catch (CheckpointException e) when (e is not CheckpointUnsafeException)
        {
            var forbidden = main.Globals.Where(LegacyPolicy.Refuses).ToList();
            if (forbidden.Count == 0)
            {
                throw;
            }
            throw PickleMachine.UnsafeThenCorrupt(MainSource, forbidden, e);
        }
    }

    private PickleResult Next(ReadOnlySpan<byte> bytes, ref int position, string? what, CheckpointLimits limits)
    {
        var source = new PickleSource(_file.Path, what is null ? MainSource.Part : $"legacy {what} pickle (starting at byte {position})");
        var result = PickleMachine.Run(bytes[position..], source, limits, refused: LegacyPolicy.Refuses);
        if (what is not null)
        {
            // torch.load unpickles the magic number, protocol version, sys_info and key list with the full unpickler
            // too: a global in any of them runs as surely as one in the main pickle (read later, with its own policy).
            Torch.AllowList.Check(result, source, new Torch.ReadPolicy(Format));
        }
        position += result.EndPosition;
        return result;
    }
}
