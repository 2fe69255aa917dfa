using StateDict.Pickle;

namespace StateDict.Containers;

/// <summary>A storage the pickle declared: its record key and how many bytes it must hold.</summary>
internal sealed record StorageDecl(string Key, long ByteLength, int ElementSize, long PickleOffset);

/// <summary>Where a storage's bytes are in the file. <see cref="Offset"/> is absolute (mappable) unless the record is compressed.</summary>
internal sealed record StorageLocation(string Key, string Record, long Offset, long Length, bool Compressed);

/// <summary>
/// A checkpoint container (zip, legacy): it yields the main pickle, then, given the storages the pickle
/// declares, checks each against the file and reads their bytes on demand.
/// </summary>
internal interface IContainer : IDisposable
{
    CheckpointFormat Format { get; }

    /// <summary>The main pickle, already run (it is only data).</summary>
    PickleResult MainPickle { get; }

    /// <summary>Where the main pickle came from, for messages.</summary>
    PickleSource MainSource { get; }

    /// <summary>True when storages hold big-endian numbers (zip <c>byteorder</c> record says "big").</summary>
    bool BigEndian { get; }

    /// <summary>Validates every declared storage against the file (presence, size, bounds) and says where each is.</summary>
    IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages);

    /// <summary>Reads <c>destination.Length</c> bytes of a located storage, from byte <paramref name="start"/> of it.</summary>
    void ReadStorage(StorageLocation location, long start, Span<byte> destination);
}
