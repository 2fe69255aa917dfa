namespace StateDict;

/// <summary>
/// A sparse tensor read from a checkpoint: its components as views, indices checked against its shape.
/// </summary>
/// <typeparam name="T">The element type of the values.</typeparam>
/// <example>
/// <code>
/// SparseTensor&lt;float&gt; a = ckpt.ReadSparse&lt;float&gt;("adjacency");
/// ReadOnlySpan&lt;long&gt; rows = a.Indices!.Span[..(int)a.Info.Nnz];   // COO: indices[0, :]
/// float[] dense = a.ToDense().ToArray();                          // duplicates summed, like torch's to_dense()
/// </code>
/// </example>
public sealed class SparseTensor<T> where T : unmanaged
{
    internal SparseTensor(SparseTensorInfo info, TensorView<long>? indices, TensorView<long>? compressed, TensorView<long>? plain, TensorView<T> values)
    {
        Info = info;
        Indices = indices;
        CompressedIndices = compressed;
        PlainIndices = plain;
        Values = values;
    }

    /// <summary>What the checkpoint says about the tensor.</summary>
    public SparseTensorInfo Info { get; }

    /// <summary>The layout.</summary>
    public TensorLayout Layout => Info.Layout;

    /// <summary>The dense shape.</summary>
    public System.Collections.Immutable.ImmutableArray<long> Shape => Info.Shape;

    /// <summary>COO: the indices [sparse_dim, nnz].</summary>
    public TensorView<long>? Indices { get; }

    /// <summary>Compressed layouts: crow_indices (CSR, BSR) or ccol_indices (CSC, BSC), widened to int64 when stored as int32.</summary>
    public TensorView<long>? CompressedIndices { get; }

    /// <summary>Compressed layouts: col_indices (CSR, BSR) or row_indices (CSC, BSC), widened to int64 when stored as int32.</summary>
    public TensorView<long>? PlainIndices { get; }

    /// <summary>The values.</summary>
    public TensorView<T> Values { get; }

    /// <summary>
    /// The dense tensor, as torch's <c>to_dense()</c> computes it: zeros, then each stored value added in storage order
    /// (duplicate COO entries summed in that order; a stored -0.0 becomes +0.0, as in torch).
    /// </summary>
    /// <exception cref="NotSupportedException">The element type has no addition here (float8).</exception>
    public TensorView<T> ToDense()
    {
        var add = ElementAdd<T>.Add ?? throw new NotSupportedException($"'{Info.Key}': no addition for {typeof(T).Name} values; read the components instead");
        int count = DerivedTensor.Count(Info.Key, Shape);
        var dense = new T[count];
        var values = Values.Span;
        if (Layout == TensorLayout.SparseCoo)
        {
            ScatterCoo(dense, values, add);
        }
        else
        {
            ScatterCompressed(dense, values, add);
        }
        return new TensorView<T>(DerivedTensor.Info(Info.Key, Info.DType, Shape, count), dense);
    }

    private void ScatterCoo(T[] dense, ReadOnlySpan<T> values, Func<T, T, T> add)
    {
        var indices = Indices!.Span;
        int sparseDims = (int)Info.Indices!.Shape[0];
        long nnz = Info.Nnz;
        long block = values.Length / Math.Max(nnz, 1);
        for (long k = 0; k < nnz; k++)
        {
            long position = 0;
            for (int d = 0; d < sparseDims; d++)
            {
                position = (position * Shape[d]) + indices[(int)((d * nnz) + k)];
            }
            AddBlock(dense, position * block, values.Slice((int)(k * block), (int)block), add);
        }
    }

    private void ScatterCompressed(T[] dense, ReadOnlySpan<T> values, Func<T, T, T> add)
    {
        var compressed = CompressedIndices!.Span;
        var plain = PlainIndices!.Span;
        bool rows = Layout.CompressesRows();
        long blockRows = Info.BlockSize.IsEmpty ? 1 : Info.BlockSize[0];
        long blockCols = Info.BlockSize.IsEmpty ? 1 : Info.BlockSize[1];
        long denseBlock = values.Length / Math.Max(Info.Nnz * blockRows * blockCols, 1);
        long columns = Shape[1];
        for (int c = 0; c + 1 < compressed.Length; c++)
        {
            for (long k = compressed[c]; k < compressed[c + 1]; k++)
            {
                long blockRow = rows ? c : plain[(int)k];
                long blockCol = rows ? plain[(int)k] : c;
                for (long i = 0; i < blockRows; i++)
                {
                    for (long j = 0; j < blockCols; j++)
                    {
                        long position = (((blockRow * blockRows) + i) * columns) + (blockCol * blockCols) + j;
                        long source = ((((k * blockRows) + i) * blockCols) + j) * denseBlock;
                        AddBlock(dense, position * denseBlock, values.Slice((int)source, (int)denseBlock), add);
                    }
                }
            }
        }
    }

    private static void AddBlock(T[] dense, long start, ReadOnlySpan<T> block, Func<T, T, T> add)
    {
        var target = dense.AsSpan((int)start, block.Length);
        for (int e = 0; e < block.Length; e++)
        {
            target[e] = add(target[e], block[e]);
        }
    }
}
