using System.Collections.ObjectModel;

namespace StateDict;

/// <summary>Sparse and quantized tensors: listed by key, their components also in <see cref="Tensors"/>.</summary>
public sealed partial class Checkpoint
{
    /// <summary>
    /// Every sparse tensor, in file order, by key. Its components are in <see cref="Tensors"/> under
    /// <c>KEY.indices</c>, <c>KEY.values</c>, <c>KEY.crow_indices</c>, ... with <see cref="TensorInfo.Layout"/> set.
    /// </summary>
    public IReadOnlyDictionary<string, SparseTensorInfo> SparseTensors { get; }

    /// <summary>
    /// Every quantized tensor, in file order, by key. Its integer representation is in <see cref="Tensors"/> under the
    /// same key (with <see cref="TensorInfo.QuantizedDType"/> set), per-channel scales and zero points under
    /// <c>KEY.scales</c> and <c>KEY.zero_points</c>.
    /// </summary>
    public IReadOnlyDictionary<string, QuantizedTensorInfo> QuantizedTensors { get; }

    /// <summary>
    /// Reads a sparse tensor's components, after checking its indices against its shape as torch's
    /// <c>_validate_sparse_*_tensor_args</c> do (out-of-range or unsorted indices: <see cref="CheckpointCorruptException"/>).
    /// </summary>
    /// <typeparam name="T">The element type of the values (<see cref="float"/> for float32, ...).</typeparam>
    /// <exception cref="KeyNotFoundException">No sparse tensor has that key.</exception>
    /// <exception cref="TensorTypeMismatchException"><typeparamref name="T"/> is not the values' element type.</exception>
    /// <exception cref="CheckpointCorruptException">An index is outside the shape, or compressed indices are inconsistent.</exception>
    public SparseTensor<T> ReadSparse<T>(string key) where T : unmanaged
    {
        var info = FindKind(SparseTensors, key, "sparse");
        CheckElementType<T>(info.Values);
        var values = Read<T>(info.Values);
        if (info.Layout == TensorLayout.SparseCoo)
        {
            var indices = Read<long>(info.Indices!);
            SparseIndexCheck.Coo(Path, info, indices.Span);
            return new SparseTensor<T>(info, indices, null, null, values);
        }
        var compressed = ReadIndices(info.CompressedIndices!);
        var plain = ReadIndices(info.PlainIndices!);
        SparseIndexCheck.Compressed(Path, info, compressed.Span, plain.Span);
        return new SparseTensor<T>(info, null, compressed, plain, values);
    }

    /// <summary>Reads a quantized tensor: its integer representation and parameters; <see cref="QuantizedTensor.Dequantize"/> gives floats.</summary>
    /// <exception cref="KeyNotFoundException">No quantized tensor has that key.</exception>
    public QuantizedTensor ReadQuantized(string key)
    {
        var info = FindKind(QuantizedTensors, key, "quantized");
        return new QuantizedTensor(info, this);
    }

    /// <summary>int32 compressed indices are widened to int64 (a copy); int64 ones are read as they are.</summary>
    private TensorView<long> ReadIndices(TensorInfo indices)
    {
        if (indices.DType == DType.Int64)
        {
            return Read<long>(indices);
        }
        var narrow = Read<int>(indices).Span;
        var wide = new long[narrow.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            wide[i] = narrow[i];
        }
        return new TensorView<long>(indices, wide);
    }

    private TInfo FindKind<TInfo>(IReadOnlyDictionary<string, TInfo> kinds, string key, string kind) =>
        Lookup(kinds, key, kind + " tensor", static (checkpoint, key) => checkpoint.Tensors.ContainsKey(key) ? " (it is a dense tensor: see Read)" : "");

    /// <summary>The sparse and quantized tensors under their selected keys, their components rebound to the selected entries.</summary>
    private static (IReadOnlyDictionary<string, SparseTensorInfo>, IReadOnlyDictionary<string, QuantizedTensorInfo>) MapKinds(
        Torch.TorchTree tree, KeySelection keys, OrderedDictionary<string, TensorInfo> tensors)
    {
        TensorInfo? Component(TensorInfo? original, string owner)
        {
            if (original is null || !keys.TryMap(original.Key, out var key) || !tensors.TryGetValue(key, out var mapped))
            {
                return null;
            }
            return tensors[key] = mapped.WithKey(key, owner);
        }
        var sparse = new OrderedDictionary<string, SparseTensorInfo>(StringComparer.Ordinal);
        foreach (var s in tree.Sparse)
        {
            if (keys.TryMap(s.Key, out var key))
            {
                sparse.Add(key, new SparseTensorInfo(key, s.Layout, s.Shape, s.IsCoalesced,
                    Component(s.Indices, key), Component(s.CompressedIndices, key), Component(s.PlainIndices, key), Component(s.Values, key)!));
            }
        }
        var quantized = new OrderedDictionary<string, QuantizedTensorInfo>(StringComparer.Ordinal);
        foreach (var q in tree.Quantized)
        {
            if (keys.TryMap(q.Key, out var key))
            {
                quantized.Add(key, new QuantizedTensorInfo(key, q.DType, q.Scheme, q.Shape, tensors[key],
                    q.Scale, q.ZeroPoint, Component(q.Scales, key), Component(q.ZeroPoints, key), q.Axis));
            }
        }
        return (new ReadOnlyDictionary<string, SparseTensorInfo>(sparse), new ReadOnlyDictionary<string, QuantizedTensorInfo>(quantized));
    }
}
