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
        long nnz = info.Indices!.Shape[1];
        for (int d = 0; d < info.Indices.Shape[0]; d++)
        {
            for (long k = 0; k < nnz; k++)
            {
                long index = indices[(int)((d * nnz) + k)];
                if (index < 0 || index >= info.Shape[d])
                {
                    throw Corrupt(path, info, $"indices[{d}, {k}] = {index} is outside dimension {d} of size {info.Shape[d]}");
                }
            }
        }
    }

    public static void Compressed(string path, SparseTensorInfo info, ReadOnlySpan<long> compressed, ReadOnlySpan<long> plain)
    {
        var names = info.Layout.ComponentNames();
        bool rows = info.Layout.CompressesRows();
        long block = info.BlockSize.IsEmpty ? 1 : info.BlockSize[rows ? 1 : 0];
        long plainDim = info.Shape[rows ? 1 : 0] / block;
        long nnz = plain.Length;
        if (compressed[0] != 0 || compressed[^1] != nnz)
        {
            throw Corrupt(path, info, $"{names[0]} must start at 0 and end at nnz {nnz}, but runs from {compressed[0]} to {compressed[^1]}");
        }
        for (int i = 1; i < compressed.Length; i++)
        {
            long count = compressed[i] - compressed[i - 1];
            if (count < 0 || count > plainDim)
            {
                throw Corrupt(path, info, $"{names[0]}[{i}] - {names[0]}[{i - 1}] = {count} is outside [0, {plainDim}]");
            }
            for (long k = compressed[i - 1]; k < compressed[i]; k++)
            {
                long index = plain[(int)k];
                if (index < 0 || index >= plainDim)
                {
                    throw Corrupt(path, info, $"{names[1]}[{k}] = {index} is outside [0, {plainDim})");
                }
                if (k > compressed[i - 1] && index <= plain[(int)k - 1])
                {
                    throw Corrupt(path, info, $"{names[1]}[{k}] = {index} is not greater than the previous index in its {(rows ? "row" : "column")} (they must be sorted and distinct)");
                }
            }
        }
    }

    private static CheckpointCorruptException Corrupt(string path, SparseTensorInfo info, string problem) =>
        new(path, $"sparse {info.Layout.Name()} tensor '{info.Key}': {problem}");
}
