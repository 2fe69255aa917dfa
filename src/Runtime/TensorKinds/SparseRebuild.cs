using System.Collections.Immutable;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Reads torch's sparse rebuild calls without building anything:
/// <c>_rebuild_sparse_tensor(layout, (indices, values, size[, is_coalesced]))</c> for COO,
/// <c>_rebuild_sparse_tensor(layout, (compressed_indices, plain_indices, values, size))</c> for CSR, CSC, BSR and BSC
/// (torch ≥ 2.0), and 1.13's <c>_rebuild_sparse_csr_tensor(layout, (crow_indices, col_indices, values, size))</c>.
/// The layout is <c>torch.serialization._get_layout('torch.sparse_coo')</c>. Shapes are checked here like torch's
/// <c>_validate_sparse_*_tensor_args</c>; index values are checked when read (<see cref="SparseIndexCheck"/>).
/// </summary>
internal sealed class SparseRebuild(TensorRebuild rebuild)
{
    public static bool IsSparse(object value) => value is PyCall { Global.FullName: AllowList.RebuildSparseTensor or AllowList.RebuildSparseCsrTensor };

    public SparseTensorInfo Build(string key, PyCall call)
    {
        if (call.Args.Items is not [var layoutArg, PyTuple { Items: var data }])
        {
            throw rebuild.Fail(call, key, $"{call.Global!.Name} takes (layout, data tuple)");
        }
        var layout = Layout(call, key, layoutArg);
        if (call.Global!.FullName == AllowList.RebuildSparseCsrTensor && layout != TensorLayout.SparseCsr)
        {
            throw rebuild.Unsupported(call, $"_rebuild_sparse_csr_tensor with layout {layout.Name()} at '{key}' (torch raises NotImplementedError too)");
        }
        return layout == TensorLayout.SparseCoo ? Coo(key, call, data) : Compressed(key, call, layout, data);
    }

    private SparseTensorInfo Coo(string key, PyCall call, ArraySegment<object> data)
    {
        if (data is not ([_, _, _] or [_, _, _, bool or PyNone]))
        {
            throw rebuild.Fail(call, key, "a sparse_coo tensor's data is (indices, values, size[, is_coalesced])");
        }
        var indices = Component(key, call, data[0], "indices", TensorLayout.SparseCoo);
        var values = Component(key, call, data[1], "values", TensorLayout.SparseCoo);
        var shape = rebuild.Dimensions(call, key, data[2], "size");
        if (indices.DType != DType.Int64 || indices.Shape.Length != 2)
        {
            throw rebuild.Fail(call, key, $"indices must be a 2-d int64 tensor [sparse_dim, nnz], got {indices.DType.Name()} [{string.Join(", ", indices.Shape)}]");
        }
        long sparseDims = indices.Shape[0];
        CheckValues(call, key, values, indices.Shape[1], sparseDims, shape, blockDims: 0);
        return new SparseTensorInfo(key, TensorLayout.SparseCoo, shape, data.Count == 4 && data[3] is bool b ? b : null, indices, null, null, values);
    }

    private SparseTensorInfo Compressed(string key, PyCall call, TensorLayout layout, ArraySegment<object> data)
    {
        if (data is not [_, _, _, _])
        {
            throw rebuild.Fail(call, key, $"a {layout.Name()} tensor's data is (compressed_indices, plain_indices, values, size)");
        }
        var names = layout.ComponentNames();
        var compressed = Component(key, call, data[0], names[0], layout);
        var plain = Component(key, call, data[1], names[1], layout);
        var values = Component(key, call, data[2], "values", layout);
        var shape = rebuild.Dimensions(call, key, data[3], "size");
        if (compressed.DType is not (DType.Int32 or DType.Int64) || compressed.DType != plain.DType)
        {
            throw rebuild.Fail(call, key, $"{names[0]} and {names[1]} must both be int32 or both int64, got {compressed.DType.Name()} and {plain.DType.Name()}");
        }
        if (compressed.Shape.Length != 1 || plain.Shape.Length != 1)
        {
            throw rebuild.Unsupported(call, $"batched {layout.Name()} tensor at '{key}' ({names[0]} has {compressed.Shape.Length} dimensions; only unbatched compressed tensors are read)");
        }
        if (shape.Length < 2)
        {
            throw rebuild.Fail(call, key, $"a {layout.Name()} tensor has at least 2 dimensions, size has {shape.Length}");
        }
        int blockDims = layout.IsBlocked() ? 2 : 0;
        CheckValues(call, key, values, plain.Shape[0], 2, shape, blockDims);
        long blockRows = blockDims == 0 ? 1 : values.Shape[1];
        long blockCols = blockDims == 0 ? 1 : values.Shape[2];
        if (blockRows == 0 || blockCols == 0 || shape[0] % blockRows != 0 || shape[1] % blockCols != 0)
        {
            throw rebuild.Fail(call, key, $"blocks of [{blockRows}, {blockCols}] do not tile the size [{string.Join(", ", shape)}]");
        }
        long compressedDim = layout.CompressesRows() ? shape[0] / blockRows : shape[1] / blockCols;
        if (compressed.Shape[0] != compressedDim + 1)
        {
            throw rebuild.Fail(call, key, $"{names[0]} has {compressed.Shape[0]} entries; size [{string.Join(", ", shape)}] needs {compressedDim + 1}");
        }
        return new SparseTensorInfo(key, layout, shape, null, null, compressed, plain, values);
    }

    /// <summary>values is [nnz, block..., dense...] with dense dims equal to size's trailing ones.</summary>
    private void CheckValues(PyCall call, string key, TensorInfo values, long nnz, long sparseDims, ImmutableArray<long> shape, int blockDims)
    {
        long denseDims = values.Shape.Length - 1 - blockDims;
        bool fits = values.Shape.Length >= 1 + blockDims && values.Shape[0] == nnz && sparseDims + denseDims == shape.Length
            && values.Shape.AsSpan()[(1 + blockDims)..].SequenceEqual(shape.AsSpan()[(int)sparseDims..]);
        if (!fits)
        {
            throw rebuild.Fail(call, key,
                $"values [{string.Join(", ", values.Shape)}] do not fit nnz {nnz}, {sparseDims} sparse dimensions and size [{string.Join(", ", shape)}]");
        }
    }

    private TensorInfo Component(string key, PyCall call, object value, string name, TensorLayout layout)
    {
        if (!TensorRebuild.IsTensor(value))
        {
            throw rebuild.Fail(call, key, $"{name} is a {PyValue.TypeName(value)}, not a dense tensor");
        }
        string componentKey = $"{key}.{name}";
        return rebuild.Build(componentKey, (PyCall)value).AsComponent(key, name, layout);
    }

    private TensorLayout Layout(PyCall call, string key, object value)
    {
        if (value is PyCall { Global.FullName: AllowList.GetLayout, Args.Items: [string name] })
        {
            return TensorLayoutInfo.TryParse(name, out var layout) && layout != TensorLayout.Strided ? layout
                : throw rebuild.Unsupported(call, $"sparse tensor of layout '{name}' at '{key}'");
        }
        throw rebuild.Fail(call, key, $"the layout is a {PyValue.TypeName(value)}, not torch.serialization._get_layout(name)");
    }
}
