using System.Collections.Immutable;
using System.Runtime.InteropServices;
using StateDict.Torch;
using StateDict.Writing;

namespace StateDict;

/// <summary>Sparse and quantized tensors: added from user code or carried over from a checkpoint, written to <c>.pth</c> only.</summary>
public sealed partial class StateDictWriter
{
    /// <summary>
    /// Adds a sparse COO tensor (<c>torch.sparse_coo_tensor(indices, values, shape)</c>), copying its components.
    /// Written as torch 1.13 writes it (<c>torch.load(weights_only=True)</c> reads it), or with the coalesced flag as
    /// torch ≥ 2.1 writes it when <paramref name="isCoalesced"/> is given (torch 1.13 cannot read that form).
    /// </summary>
    /// <param name="key">The tensor's key.</param>
    /// <param name="shape">The dense shape.</param>
    /// <param name="indices">int64 indices [sparseDims, nnz], row-major: every index inside its dimension.</param>
    /// <param name="values">The values [nnz, shape[sparseDims..]...], row-major.</param>
    /// <param name="sparseDims">Leading sparse dimensions; the rest are dense (a hybrid tensor). Default: all of them.</param>
    /// <param name="isCoalesced">torch ≥ 2.1's coalesced flag, or null to leave it out.</param>
    /// <example>
    /// <code>
    /// // [[0, 1.5], [2, 0]]: (0, 1) = 1.5, (1, 0) = 2
    /// writer.AddSparseCoo&lt;float&gt;("adjacency", [2, 2], [0, 1, 1, 0], [1.5f, 2f]);
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">The components do not fit the shape, or an index is outside it.</exception>
    public StateDictWriter AddSparseCoo<T>(string key, ReadOnlySpan<long> shape, ReadOnlySpan<long> indices, ReadOnlySpan<T> values,
        int? sparseDims = null, bool? isCoalesced = null) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(key);
        int sparse = sparseDims ?? shape.Length;
        if (sparse < 1 || sparse > shape.Length || indices.Length % sparse != 0)
        {
            throw new ArgumentException($"'{key}': {indices.Length} indices do not make [{sparse}, nnz] for shape [{string.Join(", ", shape.ToArray())}]", nameof(indices));
        }
        long nnz = indices.Length / sparse;
        ImmutableArray<long> valuesShape = [nnz, .. shape[sparse..]];
        Dims(key, shape);
        if (SparseIndexCheck.CooProblem(shape, sparse, indices) is { } problem)
        {
            throw new ArgumentException($"'{key}': sparse_coo {problem}", nameof(indices));
        }
        var components = new[]
        {
            Component($"{key}.indices", DType.Int64, [sparse, nnz], MemoryMarshal.AsBytes(indices)),
            Component($"{key}.values", DTypeOf<T>(), valuesShape.AsSpan(), MemoryMarshal.AsBytes(values)),
        };
        return AddEntry(new SparseWriteEntry(key, TensorLayout.SparseCoo, [.. shape], isCoalesced, components));
    }

    /// <summary>
    /// Adds a compressed sparse tensor (CSR, CSC, BSR or BSC), copying its components; indices are written as int64.
    /// CSR is written as torch 1.13 writes it (<c>_rebuild_sparse_csr_tensor</c>, read with <c>weights_only=True</c>);
    /// CSC, BSR and BSC as torch ≥ 2.1 writes them (torch 1.13 cannot read these layouts).
    /// </summary>
    /// <param name="key">The tensor's key.</param>
    /// <param name="layout">CSR, CSC, BSR or BSC.</param>
    /// <param name="shape">The dense shape: 2 sparse dimensions, then dense ones.</param>
    /// <param name="compressedIndices"><c>crow_indices</c> (CSR, BSR) or <c>ccol_indices</c> (CSC, BSC): compressed_dim + 1 entries from 0 to nnz.</param>
    /// <param name="plainIndices"><c>col_indices</c> or <c>row_indices</c>: nnz entries, sorted and distinct within each row (column).</param>
    /// <param name="values">[nnz, dense...] or, for BSR and BSC, [nnz, blockRows, blockCols, dense...], row-major.</param>
    /// <param name="blockSize">BSR, BSC: [blockRows, blockCols]; empty for CSR and CSC.</param>
    /// <example>
    /// <code>
    /// // [[1, 0, 2], [0, 0, 3]] as CSR
    /// writer.AddSparseCompressed&lt;float&gt;("w", TensorLayout.SparseCsr, [2, 3], [0, 2, 3], [0, 2, 2], [1f, 2f, 3f]);
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">The components do not fit the shape, or the indices break torch's invariants.</exception>
    public StateDictWriter AddSparseCompressed<T>(string key, TensorLayout layout, ReadOnlySpan<long> shape, ReadOnlySpan<long> compressedIndices,
        ReadOnlySpan<long> plainIndices, ReadOnlySpan<T> values, ReadOnlySpan<long> blockSize = default) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!layout.IsCompressed())
        {
            throw new ArgumentException($"'{key}': {layout.Name()} is not a compressed layout (CSR, CSC, BSR, BSC); use AddSparseCoo or Add", nameof(layout));
        }
        if (shape.Length < 2 || blockSize.Length != (layout.IsBlocked() ? 2 : 0))
        {
            throw new ArgumentException($"'{key}': a {layout.Name()} tensor needs at least 2 dimensions{(layout.IsBlocked() ? " and a [rows, cols] block size" : " and no block size")}", nameof(shape));
        }
        Dims(key, shape);
        long blockRows = blockSize.IsEmpty ? 1 : blockSize[0];
        long blockCols = blockSize.IsEmpty ? 1 : blockSize[1];
        if (blockRows < 1 || blockCols < 1 || shape[0] % blockRows != 0 || shape[1] % blockCols != 0)
        {
            throw new ArgumentException($"'{key}': blocks of [{blockRows}, {blockCols}] do not tile [{shape[0]}, {shape[1]}]", nameof(blockSize));
        }
        long compressedDim = layout.CompressesRows() ? shape[0] / blockRows : shape[1] / blockCols;
        var names = layout.ComponentNames();
        if (compressedIndices.Length != compressedDim + 1)
        {
            throw new ArgumentException($"'{key}': {names[0]} has {compressedIndices.Length} entries; a {layout.Name()} of shape [{string.Join(", ", shape.ToArray())}] needs {compressedDim + 1}", nameof(compressedIndices));
        }
        if (SparseIndexCheck.CompressedProblem(layout, shape, blockRows, blockCols, compressedIndices, plainIndices) is { } problem)
        {
            throw new ArgumentException($"'{key}': {layout.Name()} {problem}", nameof(plainIndices));
        }
        ImmutableArray<long> valuesShape = [plainIndices.Length, .. blockSize, .. shape[2..]];
        var components = new[]
        {
            Component($"{key}.{names[0]}", DType.Int64, [compressedIndices.Length], MemoryMarshal.AsBytes(compressedIndices)),
            Component($"{key}.{names[1]}", DType.Int64, [plainIndices.Length], MemoryMarshal.AsBytes(plainIndices)),
            Component($"{key}.values", DTypeOf<T>(), valuesShape.AsSpan(), MemoryMarshal.AsBytes(values)),
        };
        return AddEntry(new SparseWriteEntry(key, layout, [.. shape], null, components));
    }

    /// <summary>
    /// Adds a per-tensor affine quantized tensor (<c>torch.quantize_per_tensor</c>) from its integer representation, copied:
    /// one byte per element for qint8 / quint8, little-endian int32 for qint32, and for quint4x2 / quint2x4 the packed
    /// bytes (<c>ceil(numel · bits / 8)</c>, element <c>i</c> in the low bits first, as <c>int_repr()</c> gives them).
    /// Written as torch 1.13 writes it; torch loads it with <c>weights_only=False</c> only (its weights_only unpickler has
    /// no <c>_rebuild_qtensor</c>).
    /// </summary>
    /// <example>
    /// <code>
    /// writer.AddQuantized("q", QuantizedDType.QInt8, [2, 2], [1, 255, 3, 4], scale: 0.05, zeroPoint: -3);
    /// </code>
    /// </example>
    public StateDictWriter AddQuantized(string key, QuantizedDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> intRepr, double scale, long zeroPoint)
    {
        var storage = QuantizedStorage(key, dtype, shape, intRepr);
        return AddEntry(new QuantizedWriteEntry(key, dtype, storage, 0, [.. shape], RowMajor([.. shape]), new QuantizerWrite(scale, zeroPoint, null, null, 0)));
    }

    /// <summary>
    /// Adds a per-channel affine quantized tensor (<c>torch.quantize_per_channel</c> with float64 scales and int64 zero
    /// points, one per index along <paramref name="axis"/>); <paramref name="intRepr"/> as for the per-tensor overload.
    /// </summary>
    public StateDictWriter AddQuantized(string key, QuantizedDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> intRepr,
        ReadOnlySpan<double> scales, ReadOnlySpan<long> zeroPoints, int axis) =>
        AddPerChannel(key, dtype, shape, intRepr, DType.Float64, MemoryMarshal.AsBytes(scales), DType.Int64, MemoryMarshal.AsBytes(zeroPoints), axis);

    /// <summary>
    /// Adds a per-channel quantized tensor with float qparams (<c>torch.per_channel_affine_float_qparams</c>: float32 scales
    /// and zero points, as embedding quantization uses); torch pickles it under <c>per_channel_affine</c>, and the float
    /// zero points tell it apart when read.
    /// </summary>
    public StateDictWriter AddQuantized(string key, QuantizedDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> intRepr,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> zeroPoints, int axis) =>
        AddPerChannel(key, dtype, shape, intRepr, DType.Float32, MemoryMarshal.AsBytes(scales), DType.Float32, MemoryMarshal.AsBytes(zeroPoints), axis);

    private StateDictWriter AddPerChannel(string key, QuantizedDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> intRepr,
        DType scaleType, ReadOnlySpan<byte> scales, DType zeroPointType, ReadOnlySpan<byte> zeroPoints, int axis)
    {
        var storage = QuantizedStorage(key, dtype, shape, intRepr);
        if (axis < 0 || axis >= shape.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"'{key}': axis {axis} is outside the {shape.Length} dimensions");
        }
        long channels = shape[axis];
        var quantizer = new QuantizerWrite(0, 0,
            Component($"{key}.scales", scaleType, [channels], scales),
            Component($"{key}.zero_points", zeroPointType, [channels], zeroPoints), axis);
        return AddEntry(new QuantizedWriteEntry(key, dtype, storage, 0, [.. shape], RowMajor([.. shape]), quantizer));
    }

    private static MemoryStorageSource QuantizedStorage(string key, QuantizedDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> intRepr)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Enum.IsDefined(dtype))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
        long count = Dims(key, shape).Aggregate(1L, (a, d) => checked(a * d));
        int bits = dtype.BitWidth();
        long bytes = bits >= 8 ? count * (bits / 8) : (count + (8 / bits) - 1) / (8 / bits);
        if (intRepr.Length != bytes)
        {
            throw new ArgumentException($"'{key}': {dtype.Name()} [{string.Join(", ", shape.ToArray())}] needs {bytes} bytes of integer representation, got {intRepr.Length}", nameof(intRepr));
        }
        return new MemoryStorageSource(dtype.ReprDType(), intRepr.ToArray());
    }

    private static ImmutableArray<long> Dims(string key, ReadOnlySpan<long> shape)
    {
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"'{key}': shape [{string.Join(", ", shape.ToArray())}] has a negative dimension", nameof(shape));
            }
        }
        return [.. shape];
    }

    private static TensorEntry Component(string key, DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        var dims = Check(key, dtype, shape, data);
        return new TensorEntry(key, new MemoryStorageSource(dtype, data.ToArray()), 0, dims, RowMajor(dims), false);
    }

    /// <summary>A checkpoint's tensor as a view of its storage (one source per storage, so shared storages stay shared).</summary>
    private static TensorEntry Entry(Checkpoint checkpoint, TensorInfo tensor, Dictionary<StorageRef, CheckpointStorageSource> sources, ImmutableArray<long>? shape = null)
    {
        var root = tensor.Storage.Root;
        if (!sources.TryGetValue(root, out var source))
        {
            sources.Add(root, source = new CheckpointStorageSource(checkpoint, root));
        }
        var dims = shape ?? tensor.Shape;
        return new TensorEntry(tensor.Key, source, tensor.Storage.ElementOffset + tensor.StorageOffset, dims, shape is null ? tensor.Strides : RowMajor(dims), tensor.IsParameter);
    }

    /// <summary>
    /// For a component of a sparse tensor, or a quantized tensor's data or parameters: adds that tensor (at its first
    /// component, so in file order) and says true; false for a plain dense tensor.
    /// </summary>
    private bool AddKindOf(Checkpoint checkpoint, TensorInfo tensor, Dictionary<StorageRef, CheckpointStorageSource> sources)
    {
        string? owner = tensor.Owner ?? (tensor.QuantizedDType is null ? null : tensor.Key);
        return owner is not null && (_keys.Contains(owner) || AddKind(checkpoint, owner, owner, sources));
    }

    /// <summary>
    /// Adds the tensor <paramref name="sourceKey"/> of <paramref name="checkpoint"/>, dense, sparse, quantized or meta, as
    /// <paramref name="key"/>, its bytes read when saving (what a generated class's <c>Save</c> writes).
    /// </summary>
    internal StateDictWriter AddFrom(Checkpoint checkpoint, string sourceKey, string key)
    {
        _checkpointSources ??= new(ReferenceEqualityComparer.Instance);
        if (AddKind(checkpoint, sourceKey, key, _checkpointSources))
        {
            return this;
        }
        var tensor = checkpoint.Tensors[sourceKey];
        return tensor.IsMeta
            ? AddEntry(Materialized(checkpoint, tensor, key))
            : Add(key, tensor.DType, tensor.Shape.AsSpan(), checkpoint.ReadBytes(sourceKey), tensor.IsParameter);
    }

    /// <summary>Adds the sparse or quantized tensor <paramref name="sourceKey"/> as <paramref name="key"/>; false when it is neither.</summary>
    private bool AddKind(Checkpoint checkpoint, string sourceKey, string key, Dictionary<StorageRef, CheckpointStorageSource> sources)
    {
        if (checkpoint.SparseTensors.TryGetValue(sourceKey, out var sparse))
        {
            var components = sparse.Components.Select(c => Entry(checkpoint, c, sources)).ToList();
            AddEntry(new SparseWriteEntry(key, sparse.Layout, sparse.Shape, sparse.IsCoalesced, components));
            return true;
        }
        if (!checkpoint.QuantizedTensors.TryGetValue(sourceKey, out var q))
        {
            return false;
        }
        // 4x2 / 2x4 data is listed as its packed bytes; torch's view is the logical shape over them.
        var data = Entry(checkpoint, q.Data, sources, q.DType.BitWidth() < 8 ? q.Shape : null);
        var quantizer = new QuantizerWrite(q.Scale, q.ZeroPoint,
            q.Scales is null ? null : Entry(checkpoint, q.Scales, sources),
            q.ZeroPoints is null ? null : Entry(checkpoint, q.ZeroPoints, sources), q.Axis);
        AddEntry(new QuantizedWriteEntry(key, q.DType, data.Storage, data.StorageOffset, data.Shape, data.Strides, quantizer));
        return true;
    }

    /// <summary>safetensors has no sparse or quantized tensors: say which one stops the save.</summary>
    private void RefuseKindsInSafetensors()
    {
        foreach (var entry in _entries)
        {
            string? kind = entry switch
            {
                SparseWriteEntry s => $"a {s.Layout.Name()} tensor",
                QuantizedWriteEntry q => $"a quantized {q.DType.Name()} tensor",
                _ => null,
            };
            if (kind is not null)
            {
                throw new NotSupportedException(
                    $"'{entry.Key}' is {kind}, which safetensors cannot hold; save as .pth, or add it densified (ToDense) or dequantized (Dequantize) instead");
            }
        }
    }
}
