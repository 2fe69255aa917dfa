using System.Collections.Immutable;

namespace StateDict;

/// <summary>
/// A sparse tensor of a checkpoint (<c>torch.sparse_coo</c>, <c>sparse_csr</c>, <c>sparse_csc</c>, <c>sparse_bsr</c>,
/// <c>sparse_bsc</c>): its dense shape and its component tensors, each also listed in <see cref="Checkpoint.Tensors"/>
/// under <c>KEY.indices</c>, <c>KEY.values</c>, <c>KEY.crow_indices</c>, ... Read it with <see cref="Checkpoint.ReadSparse{T}(string)"/>.
/// </summary>
/// <example>
/// <code>
/// var adj = ckpt.SparseTensors["adjacency"];            // sparse_coo [4, 5], nnz 6
/// SparseTensor&lt;float&gt; s = ckpt.ReadSparse&lt;float&gt;("adjacency");
/// TensorView&lt;float&gt; dense = s.ToDense();
/// </code>
/// </example>
public sealed class SparseTensorInfo
{
    internal SparseTensorInfo(string key, TensorLayout layout, ImmutableArray<long> shape, bool? isCoalesced,
        TensorInfo? indices, TensorInfo? compressedIndices, TensorInfo? plainIndices, TensorInfo values)
    {
        Key = key;
        Layout = layout;
        Shape = shape;
        IsCoalesced = isCoalesced;
        Indices = indices;
        CompressedIndices = compressedIndices;
        PlainIndices = plainIndices;
        Values = values;
        BlockSize = layout.IsBlocked() ? [values.Shape[1], values.Shape[2]] : [];
    }

    /// <summary>The tensor's key; its components are listed under <c>KEY.component</c>.</summary>
    public string Key { get; }

    /// <summary>The sparse layout.</summary>
    public TensorLayout Layout { get; }

    /// <summary>The dense shape (<c>tensor.size()</c>).</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>The element type of the values.</summary>
    public DType DType => Values.DType;

    /// <summary>Stored elements (COO, CSR, CSC) or blocks (BSR, BSC).</summary>
    public long Nnz => Values.Shape[0];

    /// <summary>COO: the coalesced flag torch ≥ 2.1 pickles (null when the file does not say, as in torch 1.13).</summary>
    public bool? IsCoalesced { get; }

    /// <summary>COO: the int64 indices, [sparse_dim, nnz].</summary>
    public TensorInfo? Indices { get; }

    /// <summary>CSR, BSR: <c>crow_indices</c>; CSC, BSC: <c>ccol_indices</c> (int32 or int64, compressed_dim + 1).</summary>
    public TensorInfo? CompressedIndices { get; }

    /// <summary>CSR, BSR: <c>col_indices</c>; CSC, BSC: <c>row_indices</c> (int32 or int64, nnz).</summary>
    public TensorInfo? PlainIndices { get; }

    /// <summary>The values: [nnz, dense dims...], or [nnz, block rows, block cols, dense dims...] for BSR and BSC.</summary>
    public TensorInfo Values { get; }

    /// <summary>BSR, BSC: [block rows, block cols]; empty otherwise.</summary>
    public ImmutableArray<long> BlockSize { get; }

    /// <summary>The components in the order torch pickles them.</summary>
    public IReadOnlyList<TensorInfo> Components =>
        Layout == TensorLayout.SparseCoo ? [Indices!, Values] : [CompressedIndices!, PlainIndices!, Values];

    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {Layout.Name()} {DType.Name()} [{string.Join(", ", Shape)}], nnz {Nnz}";
}
