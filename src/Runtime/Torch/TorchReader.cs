using System.Numerics;
using StateDict.Containers;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>What a checkpoint holds: tensors and plain values under flattened keys, and the storages to locate.</summary>
internal sealed record TorchTree(
    IReadOnlyList<TensorInfo> Tensors,
    IReadOnlyList<KeyValuePair<string, object?>> Values,
    IReadOnlyCollection<StorageDecl> Storages);

/// <summary>
/// Reads the unpickled object of a checkpoint as torch would build it, without building anything:
/// allowed globals become dicts, lists, tensors and plain values; nested containers flatten to dotted keys
/// (<c>model.fc1.weight</c>, <c>optimizer.state.0.momentum_buffer</c>). The walk is bounded in depth and in
/// objects visited, so cycles and shared-subtree bombs fail fast.
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
    private readonly List<TensorInfo> _tensors = [];
    private readonly List<KeyValuePair<string, object?>> _values = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly long _maxVisits;
    private long _visited;
    private long _keyChars;

    private TorchReader(PickleSource source, CheckpointLimits limits, TensorRebuild rebuild, int pickleBytes)
    {
        _source = source;
        _limits = limits;
        _rebuild = rebuild;
        _maxVisits = Math.Min(limits.MaxEntries, (VisitsPerPickleByte * pickleBytes) + 4096);
    }

    public static TorchTree Read(PickleResult pickle, PickleSource source, CheckpointLimits limits)
    {
        AllowList.Check(pickle, source);
        var storages = new StorageTable(pickle, source);
        var reader = new TorchReader(source, limits, new TensorRebuild(storages, source, limits), pickle.EndPosition);
        reader.Visit(pickle.Root, "", 0);
        return new TorchTree(reader._tensors, reader._values, storages.Declarations());
    }

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
            case PyDict dict:
                VisitPairs(dict.Items, key, depth);
                break;
            case PyList list:
                VisitItems(list.Items, key, depth);
                break;
            case PyTuple tuple:
                VisitItems(tuple.Items, key, depth);
                break;
            case PySet set:
                VisitItems(set.Items, key, depth);
                break;
            case PyCall call when TensorRebuild.IsTensor(call):
                Add(key, _rebuild.Build(key, call));
                break;
            case PyCall call:
                VisitCall(call, key, depth);
                break;
            default:
                throw Unsupported(value, key, value is PyPersistentId pid ? pid.Offset : null);
        }
    }

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
            case AllowList.Size when args is [PyTuple dims]:
                VisitItems(dims.Items, key, depth);
                break;
            case AllowList.Set or AllowList.FrozenSet when args is [] or [PyList] or [PyTuple]:
                VisitItems(args is [PyList l] ? l.Items : args is [PyTuple t] ? t.Items : [], key, depth);
                break;
            case AllowList.Device when args is [string] or [string, long]:
                AddValue(key, args.Length == 1 ? args[0] : $"{args[0]}:{args[1]}");
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

    private void VisitPairs(List<KeyValuePair<object, object>> pairs, string key, int depth)
    {
        foreach (var (k, v) in pairs)
        {
            string segment = PyValue.KeyString(k)
                ?? throw new CheckpointFormatException(_source.FilePath, $"{_source.Part}: a dict under '{Shorten(key)}' has a {PyValue.TypeName(k)} key; only str, int, float, bool and None keys flatten to dotted names");
            Visit(v, Join(key, segment), depth + 1);
        }
    }

    private void VisitItems(IReadOnlyList<object> items, string key, int depth)
    {
        for (int i = 0; i < items.Count; i++)
        {
            Visit(items[i], Join(key, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), depth + 1);
        }
    }

    private static string Join(string prefix, string segment) => prefix.Length == 0 ? segment : $"{prefix}.{segment}";

    private void Add(string key, TensorInfo tensor)
    {
        Claim(key);
        _tensors.Add(tensor);
    }

    private void AddValue(string key, object? value)
    {
        Claim(key);
        _values.Add(new(key, value));
    }

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
