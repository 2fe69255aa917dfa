namespace StateDict;

/// <summary>
/// The index invariants torch checks when it loads a sparse tensor (<c>_validate_sparse_coo_tensor_args</c>,
/// <c>_validate_sparse_compressed_tensor_args</c>): every index inside the shape; compressed indices start at 0, end at
/// nnz and never decrease by more than the plain dimension allows; plain indices sorted and distinct within each
/// compressed slot. A violation is a <see cref="CheckpointCorruptException"/> naming the key, before any dense write.
/// </summary>
internal static class SparseIndexCheck
{
    public static void Coo(string path, SparseTensorInfo info, ReadOnlySpan<long> indices)
    {
        if (CooProblem(info.Shape.AsSpan(), info.Indices!.Shape[0], indices) is { } problem)
        {
            throw Corrupt(path, info, problem);
        }
    }

    public static void Compressed(string path, SparseTensorInfo info, ReadOnlySpan<long> compressed, ReadOnlySpan<long> plain)
    {
        long blockRows = info.BlockSize.IsEmpty ? 1 : info.BlockSize[0];
        long blockCols = info.BlockSize.IsEmpty ? 1 : info.BlockSize[1];
        if (CompressedProblem(info.Layout, info.Shape.AsSpan(), blockRows, blockCols, compressed, plain) is { } problem)
        {
            throw Corrupt(path, info, problem);
        }
    }

    /// <summary>What is wrong with COO indices [sparse_dims, nnz] (row-major) for the shape, or null.</summary>
    public static string? CooProblem(ReadOnlySpan<long> shape, long sparseDims, ReadOnlySpan<long> indices)
    {
        long nnz = sparseDims == 0 ? 0 : indices.Length / sparseDims;
        for (int d = 0; d < sparseDims; d++)
        {
            for (long k = 0; k < nnz; k++)
            {
                long index = indices[(int)((d * nnz) + k)];
                if (index < 0 || index >= shape[d])
                {
                    return $"indices[{d}, {k}] = {index} is outside dimension {d} of size {shape[d]}";
                }
            }
        }
        return null;
    }

    /// <summary>What is wrong with compressed and plain indices (compressed_dim + 1 and nnz long) for the shape, or null.</summary>
    public static string? CompressedProblem(TensorLayout layout, ReadOnlySpan<long> shape, long blockRows, long blockCols,
        ReadOnlySpan<long> compressed, ReadOnlySpan<long> plain)
    {
        var names = layout.ComponentNames();
        bool rows = layout.CompressesRows();
        long plainDim = rows ? shape[1] / blockCols : shape[0] / blockRows;
        long nnz = plain.Length;
        if (compressed[0] != 0 || compressed[^1] != nnz)
        {
            return $"{names[0]} must start at 0 and end at nnz {nnz}, but runs from {compressed[0]} to {compressed[^1]}";
        }
        for (int i = 1; i < compressed.Length; i++)
        {
            long count = compressed[i] - compressed[i - 1];
            if (count < 0 || count > plainDim)
            {
                return $"{names[0]}[{i}] - {names[0]}[{i - 1}] = {count} is outside [0, {plainDim}]";
            }
            for (long k = compressed[i - 1]; k < compressed[i]; k++)
            {
                long index = plain[(int)k];
                if (index < 0 || index >= plainDim)
                {
                    return $"{names[1]}[{k}] = {index} is outside [0, {plainDim})";
                }
                if (k > compressed[i - 1] && index <= plain[(int)k - 1])
                {
                    return $"{names[1]}[{k}] = {index} is not greater than the previous index in its {(rows ? "row" : "column")} (they must be sorted and distinct)";
                }
            }
        }
        return null;
    }

    private static CheckpointCorruptException Corrupt(string path, SparseTensorInfo info, string problem) =>
        new(path, $"sparse {info.Layout.Name()} tensor '{info.Key}': {problem}");
}
