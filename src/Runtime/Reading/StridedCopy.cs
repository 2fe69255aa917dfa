namespace StateDict.Reading;

/// <summary>Materializes a strided view (transposed, sliced, expanded, permuted) row-major, into memory the caller gives.</summary>
internal static class StridedCopy
{
    /// <summary>Writes the view's elements, row-major, into the first <c>shape</c>-product elements of <paramref name="result"/>.</summary>
    public static void Gather<T>(ReadOnlySpan<T> storage, long offset, ReadOnlySpan<long> shape, ReadOnlySpan<long> strides, Span<T> result)
    {
        if (result.IsEmpty)
        {
            return;
        }
        int rank = shape.Length;
        int inner = rank - 1;
        long innerSize = shape[inner];
        long innerStride = strides[inner];
        Span<long> index = stackalloc long[rank];
        long source = offset;
        int written = 0;
        while (true)
        {
            // One row of the innermost dimension.
            if (innerStride == 1)
            {
                storage.Slice((int)source, (int)innerSize).CopyTo(result[written..]);
                written += (int)innerSize;
            }
            else
            {
                long at = source;
                for (long i = 0; i < innerSize; i++, at += innerStride)
                {
                    result[written++] = storage[(int)at];
                }
            }
            // Odometer over the outer dimensions.
            int d = inner - 1;
            for (; d >= 0; d--)
            {
                source += strides[d];
                if (++index[d] < shape[d])
                {
                    break;
                }
                source -= strides[d] * shape[d];
                index[d] = 0;
            }
            if (d < 0)
            {
                return;
            }
        }
    }
}
