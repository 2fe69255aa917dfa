using System.Globalization;
using System.Numerics;

namespace StateDict.Writing;

/// <summary>
/// Writes <c>data.pkl</c> as <c>torch.save</c> does: protocol 2; a flat state_dict is
/// <c>collections.OrderedDict()</c> + SETITEMS, nested keys become plain dicts; each tensor is
/// <c>torch._utils._rebuild_tensor_v2(pid, offset, size, stride, requires_grad, OrderedDict())</c> with a typed storage
/// (<c>_rebuild_tensor_v3</c> with an untyped one and the dtype for torch ≥ 2.1's new dtypes), wrapped in
/// <c>_rebuild_parameter</c> for parameters. Storage keys are numbered in order of first use; a tensor written
/// again (tied weights) is a BINGET of the first.
/// </summary>
internal sealed partial class TorchPickler
{
    private static readonly object StorageTag = new();
    private static readonly object CpuTag = new();

    private readonly PickleWriter _pickle = new();
    private readonly Dictionary<StorageSource, string> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<StorageSource, List<TensorEntry>> _written = new(ReferenceEqualityComparer.Instance);

    /// <summary>Storages in the order their keys were assigned ("0", "1", …).</summary>
    public List<(string Key, StorageSource Storage)> Storages { get; } = [];

    /// <param name="entries">What to write, in order.</param>
    /// <param name="layout">Flat (one dict of dotted keys) or nested dicts.</param>
    /// <param name="plainDict">A flat state_dict as a plain dict (<c>torch.save({...})</c>) rather than an OrderedDict.</param>
    public static (byte[] Pickle, List<(string Key, StorageSource Storage)> Storages) Write(IReadOnlyList<WriteEntry> entries, KeyLayout layout, bool plainDict = false)
    {
        var pickler = new TorchPickler();
        pickler._pickle.Proto();
        if (layout == KeyLayout.Nested)
        {
            pickler.WriteNode(KeyTree.Build(entries));
        }
        else
        {
            if (plainDict)
            {
                pickler._pickle.EmptyDict();
            }
            else
            {
                pickler._pickle.Global("collections", "OrderedDict");
                pickler._pickle.EmptyTuple();
                pickler._pickle.Reduce();
            }
            pickler._pickle.SetItems(entries, e =>
            {
                pickler._pickle.String(e.Key);
                pickler.WriteLeaf(e);
            });
        }
        pickler._pickle.Stop();
        return (pickler._pickle.ToArray(), pickler.Storages);
    }

    private void WriteNode(KeyTree node)
    {
        _pickle.EmptyDict();
        _pickle.SetItems(node.Children, child =>
        {
            _pickle.String(child.Segment);
            if (child.Leaf is { } leaf)
            {
                WriteLeaf(leaf);
            }
            else
            {
                WriteNode(child);
            }
        });
    }

    private void WriteLeaf(WriteEntry entry)
    {
        switch (entry)
        {
            case TensorWriteEntry t:
                WriteTensor(t.Tensor);
                break;
            case ValueWriteEntry v:
                WriteValue(v.Value);
                break;
            default:
                WriteKind(entry);
                break;
        }
    }

    private void WriteTensor(TensorEntry tensor)
    {
        if (!_written.TryGetValue(tensor.Storage, out var sameStorage))
        {
            _written.Add(tensor.Storage, sameStorage = []);
        }
        foreach (var earlier in sameStorage)
        {
            if (tensor.IsAliasOf(earlier) && _pickle.TryGet(earlier))
            {
                return;
            }
        }
        sameStorage.Add(tensor);
        if (tensor.IsParameter)
        {
            // torch.nn.Parameter.__reduce_ex__: (_rebuild_parameter, (self.data, self.requires_grad, OrderedDict())).
            _pickle.Global("torch._utils", "_rebuild_parameter");
            _pickle.BeginTuple(3);
            WriteRebuild(tensor, requiresGrad: false);
            _pickle.Bool(true);
            WriteEmptyOrderedDict();
            _pickle.EndTuple(3);
            _pickle.Reduce(tensor);
        }
        else
        {
            WriteRebuild(tensor, requiresGrad: false, identity: tensor);
        }
    }

    private void WriteRebuild(TensorEntry tensor, bool requiresGrad, object? identity = null)
    {
        if (tensor.IsMeta)
        {
            // torch._tensor's reduction of a meta tensor: (_rebuild_meta_tensor_no_storage, (dtype, size, stride, requires_grad)).
            _pickle.Global("torch._utils", "_rebuild_meta_tensor_no_storage");
            _pickle.BeginTuple(4);
            _pickle.Global("torch", tensor.DType.Name());
            _pickle.IntTuple(tensor.Shape);
            _pickle.IntTuple(tensor.Strides);
            _pickle.Bool(requiresGrad);
            _pickle.EndTuple(4);
            _pickle.Reduce(identity);
            return;
        }
        if (tensor.DType.PackedValues() == 4)
        {
            throw new NotSupportedException($"torch has no dtype for {tensor.DType.Name()} ('{tensor.Key}'); save it as .safetensors ({tensor.DType.SafetensorsName()})");
        }
        bool v3 = TorchNames.NeedsRebuildV3(tensor.DType);
        _pickle.Global("torch._utils", v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2");
        int count = v3 ? 7 : 6;
        _pickle.BeginTuple(count);
        WriteStorage(tensor.Storage, v3);
        _pickle.Int(tensor.StorageOffset);
        _pickle.IntTuple(tensor.Shape);
        _pickle.IntTuple(tensor.Strides);
        _pickle.Bool(requiresGrad);
        WriteEmptyOrderedDict();
        if (v3)
        {
            _pickle.Global("torch", tensor.DType.Name());
        }
        _pickle.EndTuple(count);
        _pickle.Reduce(identity);
    }

    /// <summary>
    /// <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c> BINPERSID; untyped storages count bytes. A quantized
    /// tensor's storage names its own class (<paramref name="storageClass"/>, e.g. <c>QInt8Storage</c>).
    /// </summary>
    private void WriteStorage(StorageSource storage, bool untyped, string? storageClass = null)
    {
        if (!_keys.TryGetValue(storage, out string? key))
        {
            key = _keys.Count.ToString(CultureInfo.InvariantCulture);
            _keys.Add(storage, key);
            Storages.Add((key, storage));
        }
        _pickle.BeginTuple(5);
        _pickle.String("storage", StorageTag);
        if (untyped)
        {
            _pickle.Global("torch.storage", "UntypedStorage");
        }
        else
        {
            _pickle.Global("torch", storageClass ?? TorchNames.StorageClass(storage.DType));
        }
        _pickle.String(key, storage);
        _pickle.String("cpu", CpuTag);
        _pickle.Int(untyped ? storage.ByteLength : storage.ElementCount);
        _pickle.EndTuple(5);
        _pickle.BinPersId();
    }

    private void WriteEmptyOrderedDict()
    {
        _pickle.Global("collections", "OrderedDict");
        _pickle.EmptyTuple();
        _pickle.Reduce();
    }

    private void WriteValue(object? value)
    {
        switch (value)
        {
            case null: _pickle.None(); break;
            case bool b: _pickle.Bool(b); break;
            case long l: _pickle.Int(l); break;
            case int i: _pickle.Int(i); break;
            case short s: _pickle.Int(s); break;
            case sbyte sb: _pickle.Int(sb); break;
            case byte by: _pickle.Int(by); break;
            case ushort us: _pickle.Int(us); break;
            case uint ui: _pickle.Int(ui); break;
            case ulong ul: _pickle.Int(new BigInteger(ul)); break;
            case BigInteger big: _pickle.Int(big); break;
            case double d: _pickle.Float(d); break;
            case float f: _pickle.Float(f); break;
            case Half h: _pickle.Float((double)h); break;
            case string text: _pickle.String(text); break;
            case byte[] bytes:
                // Python 3 bytes at protocol 2: _codecs.encode(bytes.decode('latin1'), 'latin1').
                _pickle.Global("_codecs", "encode");
                _pickle.BeginTuple(2);
                _pickle.String(System.Text.Encoding.Latin1.GetString(bytes));
                _pickle.String("latin1");
                _pickle.EndTuple(2);
                _pickle.Reduce();
                break;
            case Complex c:
                _pickle.Global("__builtin__", "complex");
                _pickle.BeginTuple(2);
                _pickle.Float(c.Real);
                _pickle.Float(c.Imaginary);
                _pickle.EndTuple(2);
                _pickle.Reduce();
                break;
            default:
                throw new ArgumentException($"cannot write a {value.GetType().Name} as a checkpoint value; use int, float, str, bool, None, bytes or complex");
        }
    }
}

/// <summary>How torch names dtypes' storages.</summary>
internal static class TorchNames
{
    /// <summary>Dtypes torch ≥ 2.1 saves with <c>_rebuild_tensor_v3</c> and an untyped storage (no typed storage class exists).</summary>
    public static bool NeedsRebuildV3(DType dtype) => dtype is DType.UInt16 or DType.UInt32 or DType.UInt64 or DType.Float8E4M3FN or DType.Float8E5M2
        or DType.Complex32 or DType.Float8E4M3FNUZ or DType.Float8E5M2FNUZ or DType.Float8E8M0FNU or DType.Float4E2M1FNx2;

    public static string StorageClass(DType dtype) => dtype switch
    {
        DType.Float64 => "DoubleStorage",
        DType.Float32 => "FloatStorage",
        DType.Float16 => "HalfStorage",
        DType.BFloat16 => "BFloat16Storage",
        DType.Int64 => "LongStorage",
        DType.Int32 => "IntStorage",
        DType.Int16 => "ShortStorage",
        DType.Int8 => "CharStorage",
        DType.UInt8 => "ByteStorage",
        DType.Bool => "BoolStorage",
        DType.Complex64 => "ComplexFloatStorage",
        DType.Complex128 => "ComplexDoubleStorage",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no typed storage class"),
    };
}

/// <summary>Dotted keys folded back into nested dicts (<c>model.fc1.weight</c> → model → fc1 → weight).</summary>
internal sealed class KeyTree
{
    private readonly Dictionary<string, KeyTree> _byName = new(StringComparer.Ordinal);

    private KeyTree(string segment) => Segment = segment;

    public string Segment { get; }

    public WriteEntry? Leaf { get; private set; }

    public List<KeyTree> Children { get; } = [];

    public static KeyTree Build(IReadOnlyList<WriteEntry> entries)
    {
        var root = new KeyTree("");
        foreach (var entry in entries)
        {
            var node = root;
            var segments = entry.Key.Split('.');
            for (int i = 0; i < segments.Length; i++)
            {
                if (node.Leaf is not null)
                {
                    throw new ArgumentException($"cannot nest '{entry.Key}': '{string.Join('.', segments[..i])}' is already a tensor or value, not a dict");
                }
                if (!node._byName.TryGetValue(segments[i], out var child))
                {
                    child = new KeyTree(segments[i]);
                    node._byName.Add(segments[i], child);
                    node.Children.Add(child);
                }
                node = child;
            }
            if (node.Leaf is not null || node.Children.Count > 0)
            {
                throw new ArgumentException($"cannot nest '{entry.Key}': it is both a leaf and a dict of other keys");
            }
            node.Leaf = entry;
        }
        return root;
    }
}
