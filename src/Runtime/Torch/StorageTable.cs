using StateDict.Containers;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Interprets every persistent id of a pickle as a storage reference
/// <c>('storage', torch.XStorage, key, location, numel[, view_metadata])</c>, once each, so that tensors naming
/// the same key share one <see cref="StorageRef"/>. Anything else is refused.
/// </summary>
internal sealed class StorageTable
{
    private readonly PickleSource _source;
    private readonly Dictionary<PyPersistentId, StorageSlice> _byId = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, StorageRef> _byKey = new(StringComparer.Ordinal);

    public StorageTable(PickleResult pickle, PickleSource source)
    {
        _source = source;
        foreach (var pid in pickle.PersistentIds)
        {
            _byId[pid] = Interpret(pid);
        }
    }

    public StorageSlice this[PyPersistentId pid] => _byId[pid];

    /// <summary>Each storage the pickle declares, for the container to locate and check.</summary>
    public IReadOnlyCollection<StorageDecl> Declarations() =>
        _byKey.Values.Select(s => new StorageDecl(s.Key, ByteLength(s), s.DType?.ElementSize() ?? 1, s.PickleOffset)).ToList();

    private long ByteLength(StorageRef storage)
    {
        if (storage.Untyped || storage.Size <= long.MaxValue / storage.DType!.Value.ElementSize())
        {
            return storage.ByteLength;
        }
        throw Corrupt(storage.PickleOffset, $"storage '{storage.Key}' declares {storage.Size} elements, more bytes than any file can hold");
    }

    private StorageSlice Interpret(PyPersistentId pid)
    {
        long at = pid.Offset;
        if (pid.Id is not PyTuple { Items: var items } || items.Length is not (5 or 6) || items[0] is not "storage")
        {
            throw new CheckpointFormatException(_source.FilePath,
                $"{_source.Part} byte {at}: persistent id {PyValue.TypeName(pid.Id)} is not a torch storage reference ('storage', type, key, location, numel)");
        }
        if (items[1] is not PyGlobal type)
        {
            throw Corrupt(at, $"storage type is a {PyValue.TypeName(items[1])}, not a storage class");
        }
        if (items[2] is not string key || items[3] is not string || items[4] is not long size || size < 0)
        {
            throw Corrupt(at, "storage reference needs a string key, a string location and a non-negative element count");
        }
        var storage = Declare(type, key, size, at);
        if (items.Length == 5 || items[5] is PyNone)
        {
            return new StorageSlice(storage, 0, null);
        }
        // Old legacy files: (view_key, offset, view_size) selects part of the root storage.
        if (items[5] is not PyTuple { Items: [string, long offset, long viewSize] } || offset < 0 || viewSize < 0 || offset > size - viewSize)
        {
            throw Corrupt(at, $"storage '{key}' has malformed view metadata");
        }
        return new StorageSlice(storage, offset, viewSize);
    }

    private StorageRef Declare(PyGlobal type, string key, long size, long at)
    {
        DType? dtype = null;
        bool untyped = type.FullName == AllowList.UntypedStorage;
        if (!untyped)
        {
            if (AllowList.QuantizedStorageTypes.Contains(type.FullName))
            {
                throw new CheckpointFormatException(_source.FilePath, $"{_source.Part} byte {at}: quantized tensors ({type.FullName}) are not supported yet");
            }
            if (!AllowList.StorageTypes.TryGetValue(type.FullName, out var typed))
            {
                throw Corrupt(at, $"'{type.FullName}' is not a storage class");
            }
            dtype = typed;
        }
        if (_byKey.TryGetValue(key, out var existing))
        {
            if (existing.Untyped != untyped || existing.DType != dtype || existing.Size != size)
            {
                throw Corrupt(at, $"storage '{key}' is declared twice with different types or sizes");
            }
            return existing;
        }
        var storage = new StorageRef(key, dtype, size, untyped, at);
        _byKey.Add(key, storage);
        return storage;
    }

    private CheckpointCorruptException Corrupt(long at, string problem) => _source.Corrupt(at, problem);
}
