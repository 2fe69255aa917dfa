using System.Runtime.CompilerServices;
using System.Numerics;
using StateDict.Containers;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>What a checkpoint holds: tensors and plain values under flattened keys, and the storages to locate.</summary>
internal sealed record TorchTree(
    IReadOnlyList<TensorInfo> Tensors,
    IReadOnlyList<KeyValuePair<string, object?>> Values,
    IReadOnlyCollection<StorageDecl> Storages)
{
    /// <summary>Sparse tensors; their components are in <see cref="Tensors"/>.</summary>
    public IReadOnlyList<SparseTensorInfo> Sparse { get; init; } = [];

    /// <summary>Quantized tensors; their integer representations and per-channel parameters are in <see cref="Tensors"/>.</summary>
    public IReadOnlyList<QuantizedTensorInfo> Quantized { get; init; } = [];
}

/// <summary>
/// Reads the unpickled object of a checkpoint as torch would build it, without building anything:
/// allowed globals become dicts, lists, tensors and plain values; nested containers flatten to dotted keys
/// (<c>model.fc1.weight</c>, <c>optimizer.state.0.momentum_buffer</c>). The walk is bounded in depth and in
/// objects visited, so cycles and shared-subtree bombs fail fast.
/// <para>
/// Objects (<c>cls.__new__(cls)</c> plus a BUILD state) are walked only where <see cref="ReadPolicy"/> allows them:
/// the <c>__torch__.*</c> modules of a TorchScript archive, whose tensor-valued attributes are the state dict
/// (<c>fc1.weight</c>; other attributes and <c>__dunder__</c> ones are skipped), and, under
/// <see cref="LoadOptions.AllowModulePickles"/>, pickled <c>nn.Module</c>s, whose <c>_parameters</c>, persistent
/// <c>_buffers</c> and <c>_modules</c> give the keys <c>state_dict()</c> would. A module containing itself is refused.
/// </para>
/// </summary>
internal sealed class TorchReader
{
    /// <summary>Average flattened-key length allowed per visited object, summed over the walk.</summary>
    private const long KeyCharsPerEntry = 64;

    /// <summary>
    /// Objects a walk may visit per pickle byte. Without shared containers every object costs at least one byte of
    /// pickle, so only shared-subtree bombs come near this; it keeps their cost linear in the file's size.
    /// </summary>
    private const long VisitsPerPickleByte = 16;

    private readonly PickleSource _source;
    private readonly CheckpointLimits _limits;
    private readonly TensorRebuild _rebuild;
    private readonly SparseRebuild _sparseRebuild;
    private readonly QuantizedRebuild _quantizedRebuild;
    private readonly List<SparseTensorInfo> _sparse = [];
    private readonly List<QuantizedTensorInfo> _quantized = [];
    private readonly ReadPolicy _policy;
    private readonly HashSet<PyCall> _objectsOnPath = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, string> _containersOnPath = new(ReferenceEqualityComparer.Instance);
    private readonly List<TensorInfo> _tensors = [];
    private readonly List<KeyValuePair<string, object?>> _values = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly long _maxVisits;
    private long _visited;
    private long _keyChars;

    private TorchReader(PickleSource source, CheckpointLimits limits, TensorRebuild rebuild, int pickleBytes, ReadPolicy policy)
    {
        _source = source;
        _limits = limits;
        _rebuild = rebuild;
        _sparseRebuild = new SparseRebuild(rebuild);
        _quantizedRebuild = new QuantizedRebuild(rebuild);
        _policy = policy;
        _maxVisits = Math.Min(limits.MaxEntries, (VisitsPerPickleByte * pickleBytes) + 4096);
    }

    public static TorchTree Read(PickleResult pickle, PickleSource source, CheckpointLimits limits) =>
        Read(pickle, source, limits, ReadPolicy.Default);

    /// <summary>Reads a pickle of a container of the policy's format, with its opt-ins.</summary>
    public static TorchTree Read(PickleResult pickle, PickleSource source, CheckpointLimits limits, ReadPolicy policy)
    {
        AllowList.Check(pickle, source, policy);
        if (policy.TorchScript && !(pickle.Root is PyCall root && policy.IsObject(root) && ReadPolicy.IsScriptClass(ReadPolicy.ClassOf(root)!)))
        {
            throw new CheckpointFormatException(source.FilePath,
                $"{source.Part}: a TorchScript archive holds a __torch__ module object, but this one holds a {PyValue.TypeName(pickle.Root)}");
        }
        var storages = new StorageTable(pickle, source, policy.EmbeddedStorages ? limits : null, moduleIds: policy.AllowModulePickles);
        var reader = new TorchReader(source, limits, new TensorRebuild(storages, source, limits), pickle.EndPosition, policy);
        // A state dict has about one tensor per storage reference: sized once rather than regrown.
        reader._tensors.Capacity = pickle.PersistentIds.Count;
        reader._keys.EnsureCapacity(pickle.PersistentIds.Count);
        reader.Visit(pickle.Root, "", 0);
        return new TorchTree(reader._tensors, reader._values, storages.Declarations()) { Sparse = reader._sparse, Quantized = reader._quantized };
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Visit(object value, string key, int depth)
    {
        if (depth > _limits.MaxNesting)
        {
            throw new CheckpointCorruptException(_source.FilePath,
                $"{_source.Part}: containers nest deeper than {_limits.MaxNesting} levels at '{Shorten(key)}' (a cycle?) (CheckpointLimits.MaxNesting)");
        }
        if (++_visited > _maxVisits)
        {
            throw new CheckpointCorruptException(_source.FilePath,
                $"{_source.Part}: more than {_maxVisits} objects to visit for a pickle of this size (shared containers repeated?) (CheckpointLimits.MaxEntries, at most {VisitsPerPickleByte} per pickle byte)");
        }
        // Every visit builds its flattened key, so a long key above a shared subtree multiplies: bound the total too.
        _keyChars += key.Length;
        if (_keyChars > _maxVisits * KeyCharsPerEntry)
        {
            throw new CheckpointCorruptException(_source.FilePath,
                $"{_source.Part}: flattened keys exceed {_maxVisits * KeyCharsPerEntry} characters in total at '{Shorten(key)}' (long keys over shared containers?) (CheckpointLimits.MaxEntries)");
        }
        switch (value)
        {
            case string or long or BigInteger or double or bool:
                AddValue(key, value);
                break;
            case PyNone:
                AddValue(key, null);
                break;
            case PyBytes bytes:
                AddValue(key, bytes.Data);
                break;
            case PyCall call when TensorRebuild.IsTensor(call):
                Add(key, _rebuild.Build(key, call));
                break;
            case PyCall call when SparseRebuild.IsSparse(call):
                AddSparse(key, _sparseRebuild.Build(key, call));
                break;
            case PyCall call when QuantizedRebuild.IsQuantized(call):
                AddQuantized(key, _quantizedRebuild.Build(key, call));
                break;
            case PyGlobal dtype when AllowList.TryDType(dtype, out _) || AllowList.QuantizationGlobals.Contains(dtype.FullName):
                AddValue(key, dtype.FullName); // a dtype or qscheme as a value (a quantized Linear's _packed_params.dtype): its torch name
                break;
            case PyCall call when OpaqueCustomClass.Is(call):
                throw OpaqueCustomClass.Refuse(_source.FilePath, _source.Part, call, Shorten(key));
            case PyCall call when _policy.IsObject(call):
                VisitObject(call, key, depth);
                break;
            case PyDict or PyList or PyTuple or PySet or PyCall:
                VisitContainer(value, key, depth);
                break;
            default:
                throw Unsupported(value, key, value is PyPersistentId pid ? pid.Offset : null);
        }
    }

    /// <summary>
    /// A dict, list, tuple, set or container-building call. Python reads a structure that contains itself (a list
    /// appended to itself, a dict holding itself) as data; its flattened keys would never end, so it is refused here,
    /// on the way into the cycle, naming both ends of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void VisitContainer(object container, string key, int depth)
    {
        if (!_containersOnPath.TryAdd(container, key))
        {
            throw new CheckpointFormatException(_source.FilePath,
                $"{_source.Part}: the {PyValue.TypeName(container)} at {Where(key)} contains itself: a cycle back to {Where(_containersOnPath[container])} " +
                "(Python reads self-referencing data, but it has no flattened keys to list)");
        }
        switch (container)
        {
            case PyDict dict: VisitPairs(dict.Items, key, depth); break;
            case PyList list: VisitItems(list.Items, key, depth); break;
            case PyTuple tuple: VisitItems(tuple.Items, key, depth); break;
            case PySet set: VisitItems(set.Items, key, depth); break;
            default: VisitCall((PyCall)container, key, depth); break;
        }
        _containersOnPath.Remove(container);
    }

    private static string Where(string key) => key.Length == 0 ? "the top level" : $"'{Shorten(key)}'";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void VisitCall(PyCall call, string key, int depth)
    {
        var args = call.Args.Items;
        switch (call.Global?.FullName)
        {
            case AllowList.OrderedDict when call.Kind == CallKind.Reduce && args is [] or [PyList] or [PyTuple]:
                // OrderedDict() then SETITEMS, or OrderedDict([(k, v), ...]). BUILD state (_metadata) is an attribute, not an item.
                if (args is [var pairs])
                {
                    VisitPairs(AsPairs(pairs, call, key), key, depth);
                }
                VisitPairs(call.SetItems, key, depth);
                break;
            case AllowList.Counter when call.Kind == CallKind.Reduce && args is [] or [PyDict]:
                // Counter({key: count}) (Counter.__reduce__), then any SETITEMS: a dict of counts.
                if (args is [PyDict counts])
                {
                    VisitPairs(counts.Items, key, depth);
                }
                VisitPairs(call.SetItems, key, depth);
                break;
            case AllowList.Size when args is [PyTuple dims]:
                VisitItems(dims.Items, key, depth);
                break;
            case AllowList.Set or AllowList.FrozenSet when args is [] or [PyList] or [PyTuple]:
                VisitItems(args is [PyList l] ? l.Items : args is [PyTuple t] ? t.Items : [], key, depth);
                break;
            case AllowList.Device when args is [string] or [string, long]:
                AddValue(key, args.Count == 1 ? args[0] : $"{args[0]}:{args[1]}");
                break;
            case AllowList.CodecsEncode when args is [string text, string encoding] && encoding is "latin1" or "latin-1":
                AddValue(key, System.Text.Encoding.Latin1.GetBytes(text));
                break;
            case AllowList.ByteArray when args is [] or [PyBytes]:
                AddValue(key, args is [PyBytes b] ? b.Data : []);
                break;
            case AllowList.Complex when args is [double re, double im]:
                AddValue(key, new Complex(re, im));
                break;
            default:
                throw Unsupported(call, key, call.Offset);
        }
    }

    private void VisitObject(PyCall obj, string key, int depth)
    {
        if (!_objectsOnPath.Add(obj))
        {
            throw new CheckpointCorruptException(_source.FilePath,
                $"{_source.Part} byte {obj.Offset}: the {ReadPolicy.ClassOf(obj)!.FullName} object at '{Shorten(key)}' contains itself (a module cycle)");
        }
        try
        {
            if (_policy.TorchScript && ReadPolicy.IsScriptClass(ReadPolicy.ClassOf(obj)!))
            {
                VisitScriptObject(obj, key, depth);
            }
            else
            {
                VisitPickledObject(obj, key, depth);
            }
        }
        finally
        {
            _objectsOnPath.Remove(obj);
        }
    }

    /// <summary>
    /// A TorchScript module: its tensor-valued attributes are its parameters and buffers, its module-valued ones its
    /// submodules. Telling parameters from other tensor attributes would take the archive's code/, which is never read.
    /// </summary>
    private void VisitScriptObject(PyCall obj, string key, int depth)
    {
        var attributes = Attributes(obj);
        if (attributes is null)
        {
            if (depth == 0)
            {
                throw ObjectState(obj, key);
            }
            if (ScriptState.HoldsTensors(obj))
            {
                throw ScriptState.Refuse(_source.FilePath, _source.Part, obj, Shorten(key));
            }
            return; // A TorchScript class with its own __getstate__ and no tensors in it: configuration, not state dict.
        }
        foreach (var (name, value) in attributes)
        {
            string attribute = AttributeName(obj, name, key);
            if (attribute.StartsWith("__", StringComparison.Ordinal))
            {
                continue; // __parameters__, __buffers__ and the like: bookkeeping, not state.
            }
            if (TensorRebuild.IsTensor(value) || (value is PyCall child && _policy.IsObject(child) && ReadPolicy.IsScriptClass(ReadPolicy.ClassOf(child)!)))
            {
                Visit(value, Join(key, attribute), depth + 1);
            }
            // Anything else (training flags, hyper-parameters, lists, None) is not in state_dict(): skipped.
        }
    }

    /// <summary>
    /// An object of a pickled class (only under <see cref="LoadOptions.AllowModulePickles"/>). An <c>nn.Module</c> gives
    /// what <c>state_dict()</c> would: its <c>_parameters</c>, its <c>_buffers</c> except the non-persistent ones, then
    /// each of its <c>_modules</c>, skipping None entries. Any other object's attributes are read like a dict's items.
    /// </summary>
    private void VisitPickledObject(PyCall obj, string key, int depth)
    {
        var attributes = Attributes(obj) ?? throw ObjectState(obj, key);
        object? Attribute(string name) => attributes.FirstOrDefault(p => p.Key is string s && s == name).Value;
        if (Attribute("_parameters") is null && Attribute("_buffers") is null && Attribute("_modules") is null)
        {
            VisitPairs(attributes, key, depth);
            return;
        }
        var nonPersistent = Names(obj, Attribute("_non_persistent_buffers_set"), key);
        foreach (var (name, value) in Entries(obj, Attribute("_parameters"), key, "_parameters"))
        {
            VisitModuleEntry(obj, key, depth, "_parameters", name, value, TensorRebuild.IsTensor(value));
        }
        foreach (var (name, value) in Entries(obj, Attribute("_buffers"), key, "_buffers"))
        {
            if (!nonPersistent.Contains(name))
            {
                VisitModuleEntry(obj, key, depth, "_buffers", name, value, TensorRebuild.IsTensor(value));
            }
        }
        foreach (var (name, value) in Entries(obj, Attribute("_modules"), key, "_modules"))
        {
            VisitModuleEntry(obj, key, depth, "_modules", name, value, value is PyCall child && _policy.IsObject(child));
        }
    }

    private void VisitModuleEntry(PyCall obj, string key, int depth, string table, string name, object value, bool expected)
    {
        if (value is PyNone)
        {
            return; // bias=None, an optional submodule left out: not in state_dict().
        }
        if (!expected)
        {
            throw new CheckpointFormatException(_source.FilePath,
                $"{_source.Part} byte {obj.Offset}: {table}['{Shorten(name)}'] of the {ReadPolicy.ClassOf(obj)!.FullName} at '{Shorten(key)}' is a {PyValue.TypeName(value)}, not a {(table == "_modules" ? "module" : "tensor")}");
        }
        Visit(value, Join(key, name), depth + 1);
    }

    /// <summary>The object's BUILD state when it is a plain attribute dict (no state at all: no attributes); otherwise null.</summary>
    private static List<KeyValuePair<object, object>>? Attributes(PyCall obj) =>
        obj.SetItems.Count > 0 || obj.Appended.Count > 0 ? null
        : obj.States switch
        {
            [] => [],
            [PyDict dict] => dict.Items,
            _ => null,
        };

    private CheckpointFormatException ObjectState(PyCall obj, string key) =>
        new(_source.FilePath,
            $"{_source.Part} byte {obj.Offset}: the {ReadPolicy.ClassOf(obj)!.FullName} object at '{Shorten(key)}' has " +
            (obj.States.Count == 1 ? $"a {PyValue.TypeName(obj.States[0])} state" : $"{obj.States.Count} states") +
            " (or list/dict items), not an attribute dict; only attribute dicts are read");

    private string AttributeName(PyCall obj, object name, string key) =>
        name as string ?? throw new CheckpointCorruptException(_source.FilePath,
            $"{_source.Part} byte {obj.Offset}: the {ReadPolicy.ClassOf(obj)!.FullName} object at '{Shorten(key)}' has a {PyValue.TypeName(name)} attribute name");

    /// <summary>The name → value pairs of a module's <c>_parameters</c>/<c>_buffers</c>/<c>_modules</c> (an OrderedDict or dict).</summary>
    private List<KeyValuePair<string, object>> Entries(PyCall obj, object? table, string key, string what)
    {
        var pairs = table switch
        {
            null => [],
            PyDict dict => dict.Items,
            PyCall { Global.FullName: AllowList.OrderedDict, Kind: CallKind.Reduce, Args.Items: [] } call => call.SetItems,
            PyCall { Global.FullName: AllowList.OrderedDict, Kind: CallKind.Reduce, Args.Items: [PyList or PyTuple] } call =>
                [.. AsPairs(call.Args.Items[0], call, key), .. call.SetItems],
            _ => throw new CheckpointFormatException(_source.FilePath,
                $"{_source.Part} byte {obj.Offset}: {what} of the {ReadPolicy.ClassOf(obj)!.FullName} at '{Shorten(key)}' is a {PyValue.TypeName(table)}, not an OrderedDict"),
        };
        return pairs.Select(p => new KeyValuePair<string, object>(AttributeName(obj, p.Key, key), p.Value)).ToList();
    }

    /// <summary>The names in a module's <c>_non_persistent_buffers_set</c> (a set, <c>set([...])</c>, or absent).</summary>
    private HashSet<string> Names(PyCall obj, object? set, string key)
    {
        IEnumerable<object> items = set switch
        {
            null or PyNone => [],
            PySet s => s.Items,
            PyCall { Global.FullName: AllowList.Set, Args.Items: [] } => [],
            PyCall { Global.FullName: AllowList.Set, Args.Items: [PyList l] } => l.Items,
            PyCall { Global.FullName: AllowList.Set, Args.Items: [PyTuple t] } => t.Items,
            _ => throw new CheckpointFormatException(_source.FilePath,
                $"{_source.Part} byte {obj.Offset}: _non_persistent_buffers_set of the {ReadPolicy.ClassOf(obj)!.FullName} at '{Shorten(key)}' is a {PyValue.TypeName(set)}, not a set"),
        };
        return items.Select(n => AttributeName(obj, n, key)).ToHashSet(StringComparer.Ordinal);
    }

    private List<KeyValuePair<object, object>> AsPairs(object pairs, PyCall call, string key)
    {
        var items = pairs is PyList l ? l.Items : ((PyTuple)pairs).Items.ToList();
        var result = new List<KeyValuePair<object, object>>(items.Count);
        foreach (var item in items)
        {
            if (item is not PyTuple { Items: [var k, var v] })
            {
                throw Unsupported(call, key, call.Offset);
            }
            result.Add(new(k, v));
        }
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void VisitPairs(List<KeyValuePair<object, object>> pairs, string key, int depth)
    {
        foreach (var (k, v) in pairs)
        {
            string segment = PyValue.KeyString(k)
                ?? throw new CheckpointFormatException(_source.FilePath, $"{_source.Part}: a dict under '{Shorten(key)}' has a {PyValue.TypeName(k)} key; only str, int, float, bool and None keys flatten to dotted names");
            Visit(v, Join(key, segment), depth + 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void VisitItems(IReadOnlyList<object> items, string key, int depth)
    {
        for (int i = 0; i < items.Count; i++)
        {
            Visit(items[i], Join(key, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), depth + 1);
        }
    }

    private static string Join(string prefix, string segment) => prefix.Length == 0 ? segment : $"{prefix}.{segment}";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Add(string key, TensorInfo tensor)
    {
        Claim(key);
        _tensors.Add(tensor);
    }

    private void AddSparse(string key, SparseTensorInfo sparse)
    {
        Claim(key);
        _sparse.Add(sparse);
        foreach (var component in sparse.Components)
        {
            Add(component.Key, component);
        }
    }

    private void AddQuantized(string key, QuantizedTensorInfo quantized)
    {
        Add(key, quantized.Data);
        _quantized.Add(quantized);
        foreach (var component in new[] { quantized.Scales, quantized.ZeroPoints })
        {
            if (component is not null)
            {
                Add(component.Key, component);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddValue(string key, object? value)
    {
        Claim(key);
        _values.Add(new(key, value));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Claim(string key)
    {
        if (!_keys.Add(key))
        {
            throw new CheckpointFormatException(_source.FilePath, $"{_source.Part}: two entries flatten to the same key '{Shorten(key)}'");
        }
    }

    private CheckpointFormatException Unsupported(object value, string key, long? offset) =>
        new(_source.FilePath,
            $"{_source.Part}{(offset is { } at ? $" byte {at}" : "")}: unsupported object {PyValue.TypeName(value)} at key '{Shorten(key)}'");

    private static string Shorten(string key) => key.Length <= 200 ? key : key[..200] + "…";
}
