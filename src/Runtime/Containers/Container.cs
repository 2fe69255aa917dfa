using StateDict.Pickle;

namespace StateDict.Containers;

/// <summary>A storage the pickle declared: its record key and how many bytes it must hold (a value: one per storage).</summary>
internal readonly record struct StorageDecl(string Key, long ByteLength, int ElementSize, long PickleOffset)
{
    /// <summary>
    /// The storage's bytes when the pickle itself carries them (plain pickles: <c>torch.storage._load_from_bytes</c>),
    /// already checked to hold <see cref="ByteLength"/> bytes; null when they are in a record of the container.
    /// </summary>
    public ReadOnlyMemory<byte>? Embedded
    {
        get => _embedded is ReadOnlyMemory<byte> bytes ? bytes : (ReadOnlyMemory<byte>?)null; // not "null": that converts to empty memory
        init => _embedded = value;
    }

    // Boxed: rare (plain pickles only), and a reference keeps the value 40 bytes instead of 56 in a list of 20,000.
    private readonly object? _embedded;
}

/// <summary>
/// Where a storage's bytes are in the file. <see cref="Offset"/> is absolute (mappable) unless the record is compressed.
/// <see cref="File"/> names the file when it is not the checkpoint's own (a shard of a sharded checkpoint).
/// A location made by <see cref="InFolder"/> derives <see cref="Record"/> from <see cref="Key"/>: a copy <c>with</c> a new
/// key must set <see cref="Record"/> too.
/// </summary>
internal sealed record StorageLocation(string Key, long Offset, long Length, bool Compressed, CheckpointFile? File = null)
{
    private string? _folder;
    private string? _record;

    public StorageLocation(string Key, string Record, long Offset, long Length, bool Compressed, CheckpointFile? File = null)
        : this(Key, Offset, Length, Compressed, File) => _record = Record;

    /// <summary>The record <c>FOLDER + key</c>, its name made only when a message or a compressed read needs it (a zip of 20,000 storages).</summary>
    public static StorageLocation InFolder(string folder, string key, long offset, long length, bool compressed) =>
        new(key, offset, length, compressed) { Folder = folder };

    private string? Folder { init => _folder = value; }

    /// <summary>What messages call the storage's bytes (a zip record's name, "legacy storage 'KEY'", ...).</summary>
    public string Record
    {
        get => _record ??= _folder + Key;
        init => _record = value;
    }
}

/// <summary>
/// A checkpoint container (zip, legacy, safetensors, a sharded index): it yields the main pickle (or, without one,
/// the tensor table itself: <see cref="ReadTree"/>), then, given the storages the pickle declares, checks each against
/// the file and reads their bytes on demand.
/// </summary>
internal interface IContainer : IDisposable
{
    CheckpointFormat Format { get; }

    /// <summary>Where the main pickle came from, for messages.</summary>
    PickleSource MainSource { get; }

    /// <summary>True when storages hold big-endian numbers (zip <c>byteorder</c> record says "big").</summary>
    bool BigEndian { get; }

    /// <summary>Validates every declared storage against the file (presence, size, bounds) and says where each is.</summary>
    IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages);

    /// <summary>Reads <c>destination.Length</c> bytes of a located storage, from byte <paramref name="start"/> of it.</summary>
    void ReadStorage(StorageLocation location, long start, Span<byte> destination);

    /// <summary>
    /// The checkpoint's tensors, values and storages, read once. Pickle containers read them from the main pickle (run
    /// when the container was opened) and then let go of it: its object graph (about 18 MB for 20,000 tensors) is not
    /// kept for the checkpoint's lifetime. Containers of formats without one (safetensors, sharded indexes) return the
    /// table their header declares.
    /// </summary>
    Torch.TorchTree ReadTree(CheckpointLimits limits);

    /// <summary>
    /// <see cref="ReadTree"/> under <see cref="LoadOptions.AllowModulePickles"/>: containers with a pickle also accept
    /// and walk pickled modules; the others read as usual.
    /// </summary>
    Torch.TorchTree ReadTreeAllowingModulePickles(CheckpointLimits limits) => ReadTree(limits);

    /// <summary>The file's free-form string metadata (safetensors' <c>__metadata__</c>, a sharded index's <c>metadata</c>); empty for torch files.</summary>
    IReadOnlyDictionary<string, string> Metadata => System.Collections.Immutable.ImmutableDictionary<string, string>.Empty;
}
