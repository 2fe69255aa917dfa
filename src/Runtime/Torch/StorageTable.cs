using System.Runtime.CompilerServices;
using StateDict.Containers;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Interprets every persistent id of a pickle as a storage reference
/// <c>('storage', torch.XStorage, key, location, numel[, view_metadata])</c>, once each, so that tensors naming
/// the same key share one <see cref="StorageRef"/>. Anything else is refused. In plain pickles a storage may instead
/// be a <c>torch.storage._load_from_bytes(bytes)</c> call: its payload is parsed (<see cref="EmbeddedPayload"/>) when
/// a tensor first names it, and its bytes travel with its declaration.
/// </summary>
internal sealed class StorageTable
{
    private readonly PickleSource _source;
    private readonly CheckpointLimits? _embeddedLimits;
    private readonly Dictionary<object, StorageSlice> _byId;
    private readonly Dictionary<string, StorageRef> _byKey;
    private readonly Dictionary<string, (EmbeddedPayload Payload, string Key)> _payloads = new(StringComparer.Ordinal);
    private readonly Dictionary<object, StorageSlice> _byPayload = new(ReferenceEqualityComparer.Instance);

    /// <param name="pickle">The pickle whose persistent ids are interpreted.</param>
    /// <param name="source">Where the pickle came from, for messages.</param>
    /// <param name="embeddedLimits">Budgets for <c>_load_from_bytes</c> payloads; null where storages cannot be embedded.</param>
    /// <param name="moduleIds">
    /// Whether legacy <c>('module', cls, source_file, source)</c> ids (the classes of a pickled model, under
    /// <see cref="LoadOptions.AllowModulePickles"/>) are expected: they are left to the reader, not taken for storages.
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public StorageTable(PickleResult pickle, PickleSource source, CheckpointLimits? embeddedLimits = null, bool moduleIds = false)
    {
        _source = source;
        _embeddedLimits = embeddedLimits;
        // Sized once: a 20,000-tensor pickle would otherwise regrow both tables a dozen times.
        _byId = new(pickle.PersistentIds.Count, ReferenceEqualityComparer.Instance);
        _byKey = new(pickle.PersistentIds.Count, StringComparer.Ordinal);
        foreach (var pid in pickle.PersistentIds)
        {
            if (!(moduleIds && pid.NamesClass))
            {
                _byId[pid] = Interpret(pid, source, embeddedAt: null);
            }
        }
    }

    public StorageSlice this[PyPersistentId pid] => _byId[pid];

    /// <summary>
    /// The storage a tensor's storage argument names: a persistent id, or (plain pickles) a <c>_load_from_bytes</c>
    /// call, parsed on first use. Calls on the same bytes object (a memoized storage or memoized bytes) give the same
    /// storage: torch would build equal copies, and this way each payload is parsed and held once, however many
    /// calls a small pickle repeats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryResolve(object argument, out StorageSlice slice)
    {
        switch (argument)
        {
            case PyPersistentId pid when _byId.TryGetValue(pid, out var found):
                slice = found;
                return true;
            case PyCall call when _embeddedLimits is not null && EmbeddedPayload.IsCall(call):
                if (!_byId.TryGetValue(call, out var embedded))
                {
                    var identity = EmbeddedPayload.Identity(call);
                    if (identity is null || !_byPayload.TryGetValue(identity, out embedded))
                    {
                        var payload = EmbeddedPayload.Parse(call, _source, _embeddedLimits);
                        embedded = Interpret(payload.Id, payload.Source, embeddedAt: call.Offset);
                        _payloads.Add(embedded.Root.Key, (payload, (string)((PyTuple)payload.Id.Id).Items[2]));
                        _byPayload.Add(identity!, embedded);
                    }
                    _byId.Add(call, embedded);
                }
                slice = embedded;
                return true;
            default:
                slice = default;
                return false;
        }
    }

    /// <summary>Each storage the pickle declares, for the container to locate and check.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IReadOnlyCollection<StorageDecl> Declarations()
    {
        var declarations = new List<StorageDecl>(_byKey.Count);
        foreach (var s in _byKey.Values)
        {
            var decl = new StorageDecl(s.Key, ByteLength(s), s.DType?.ElementSize() ?? 1, s.PickleOffset);
            declarations.Add(_payloads.TryGetValue(s.Key, out var embedded)
                ? decl with { Embedded = embedded.Payload.Data(embedded.Key, decl.ByteLength, decl.ElementSize) }
                : decl);
        }
        return declarations;
    }

    private long ByteLength(StorageRef storage)
    {
        if (storage.Untyped || storage.Size <= long.MaxValue / storage.DType!.Value.ElementSize())
        {
            return storage.ByteLength;
        }
        throw Corrupt(storage.PickleOffset, $"storage '{storage.Key}' declares {storage.Size} elements, more bytes than any file can hold");
    }

    /// <param name="pid">The storage reference.</param>
    /// <param name="source">The pickle it is in (the payload's own pickle for an embedded storage).</param>
    /// <param name="embeddedAt">For an embedded storage, the offset of its <c>_load_from_bytes</c> call in the outer pickle.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private StorageSlice Interpret(PyPersistentId pid, PickleSource source, long? embeddedAt)
    {
        long at = pid.Offset;
        if (pid.Id is not PyTuple { Items: var items } || items.Count is not (5 or 6) || items[0] is not "storage")
        {
            throw new CheckpointFormatException(source.FilePath,
                $"{source.Part} byte {at}: persistent id {PyValue.TypeName(pid.Id)} is not a torch storage reference ('storage', type, key, location, numel)");
        }
        if (items[1] is not PyGlobal type)
        {
            throw source.Corrupt(at, $"storage type is a {PyValue.TypeName(items[1])}, not a storage class");
        }
        if (items[2] is not string key || items[3] is not string || items[4] is not long size || size < 0)
        {
            throw source.Corrupt(at, "storage reference needs a string key, a string location and a non-negative element count");
        }
        var storage = embeddedAt is { } call
            ? DeclareEmbedded(type, key, size, call, source, at)
            : Declare(type, key, size, at);
        if (items.Count == 5 || items[5] is PyNone)
        {
            return new StorageSlice(storage, 0, null);
        }
        // Old legacy files: (view_key, offset, view_size) selects part of the root storage.
        if (items[5] is not PyTuple { Items: [string, long offset, long viewSize] } || offset < 0 || viewSize < 0 || offset > size - viewSize)
        {
            throw source.Corrupt(at, $"storage '{key}' has malformed view metadata");
        }
        return new StorageSlice(storage, offset, viewSize);
    }

    /// <summary>
    /// Each payload is a storage of its own, as <c>torch.load</c> makes it, even when two payloads reuse a key (they
    /// name memory addresses of the writer): a key already taken gets the call's offset appended.
    /// </summary>
    private StorageRef DeclareEmbedded(PyGlobal type, string key, long size, long callOffset, PickleSource source, long at)
    {
        string unique = _byKey.ContainsKey(key) ? $"{key}@{callOffset}" : key;
        if (_byKey.ContainsKey(unique))
        {
            throw _source.Corrupt(callOffset, $"two _load_from_bytes payloads declare storage '{key}' at the same offset");
        }
        return Declare(type, unique, size, at, source, callOffset);
    }

    // pickleOffset: where the storage is declared in the main pickle, when that is not `at` of `source` (embedded storages).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private StorageRef Declare(PyGlobal type, string key, long size, long at, PickleSource? source = null, long? pickleOffset = null)
    {
        source ??= _source;
        DType? dtype = null;
        QuantizedDType? quantized = null;
        bool untyped = type.FullName == AllowList.UntypedStorage;
        if (!untyped)
        {
            if (QuantizationNames.TryFromStorageClass(type.FullName, out var q))
            {
                quantized = q;
                dtype = q.ReprDType();
            }
            else if (AllowList.StorageTypes.TryGetValue(type.FullName, out var typed))
            {
                dtype = typed;
            }
            else
            {
                throw source.Corrupt(at, $"'{type.FullName}' is not a storage class");
            }
        }
        if (_byKey.TryGetValue(key, out var existing))
        {
            // torch.load keeps the first typed storage it builds for a key and gives it to every later reference, so
            // an empty storage saved under two dtypes (torch.save allows that: there is no data to disagree on) reads
            // as the first dtype. Non-empty storages must agree (torch.save refuses to write anything else).
            if (size == 0 && existing.Size == 0 && existing.Untyped == untyped)
            {
                return existing;
            }
            if (existing.Untyped != untyped || existing.DType != dtype || existing.Quantized != quantized || existing.Size != size)
            {
                throw source.Corrupt(at, $"storage '{key}' is declared twice with different types or sizes");
            }
            return existing;
        }
        var storage = new StorageRef(key, dtype, size, untyped, pickleOffset ?? at) { Quantized = quantized };
        _byKey.Add(key, storage);
        return storage;
    }

    private CheckpointCorruptException Corrupt(long at, string problem) => _source.Corrupt(at, problem);
}
