using System.Collections.Immutable;

namespace StateDict.Reading;

/// <summary>
/// Where a tensor's (or a slice's) elements are in its root storage: shape, strides and the offset of the first
/// element, in elements from the start of the storage.
/// </summary>
internal readonly record struct ViewGeometry(ImmutableArray<long> Shape, ImmutableArray<long> Strides, long Offset, long Count)
{
    public static ViewGeometry Of(TensorInfo tensor) =>
        new(tensor.Shape, tensor.Strides, tensor.Storage.ElementOffset + tensor.StorageOffset, tensor.ElementCount);

    public bool IsContiguous => TensorInfo.IsRowMajor(Shape, Strides);

    /// <summary>Elements from the first to the last one the view addresses (inclusive); 0 for an empty view.</summary>
    public long Extent
    {
        get
        {
            if (Count == 0)
            {
                return 0;
            }
            long extent = 1;
            for (int d = 0; d < Shape.Length; d++)
            {
                extent += (Shape[d] - 1) * Strides[d];
            }
            return extent;
        }
    }

    /// <summary>
    /// The view of <paramref name="ranges"/> over the leading dimensions (as safetensors' <c>get_slice</c> and
    /// <c>tensor[a:b, c:d]</c>): the other dimensions are kept whole.
    /// </summary>
    /// <exception cref="ArgumentException">More ranges than dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A range outside its dimension.</exception>
    public ViewGeometry Slice(ReadOnlySpan<Range> ranges, string key)
    {
        if (ranges.Length > Shape.Length)
        {
            throw new ArgumentException($"'{key}' has {Shape.Length} dimensions; {ranges.Length} ranges were given", nameof(ranges));
        }
        var shape = Shape.ToBuilder();
        long offset = Offset;
        for (int d = 0; d < ranges.Length; d++)
        {
            if (Shape[d] > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(ranges), $"dimension {d} of '{key}' ({Shape[d]}) is too large to slice with a Range");
            }
            int size = (int)Shape[d];
            int start = ranges[d].Start.GetOffset(size);
            int end = ranges[d].End.GetOffset(size);
            if (start < 0 || end > size || start > end)
            {
                throw new ArgumentOutOfRangeException(nameof(ranges), $"range {ranges[d]} is outside dimension {d} of '{key}' (size {size})");
            }
            shape[d] = end - start;
            offset += start * Strides[d];
        }
        long count = 1;
        foreach (long size in shape)
        {
            count *= size;
        }
        return new ViewGeometry(shape.MoveToImmutable(), Strides, offset, count);
    }

    /// <summary>
    /// The number of leading dimensions to iterate over so that each step covers one contiguous run of
    /// <paramref name="run"/> elements (0 when the whole view is one run).
    /// </summary>
    public int OuterDimensions(out long run)
    {
        int k = Shape.Length;
        run = 1;
        while (k > 0 && (Shape[k - 1] == 1 || Strides[k - 1] == run))
        {
            run *= Shape[k - 1];
            k--;
        }
        return k;
    }
}
