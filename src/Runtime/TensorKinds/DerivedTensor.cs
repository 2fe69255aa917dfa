using System.Collections.Immutable;
using StateDict.Torch;

namespace StateDict;

/// <summary>The <see cref="TensorInfo"/> of a tensor computed from a checkpoint's (a sparse tensor made dense, a quantized one dequantized).</summary>
internal static class DerivedTensor
{
    public static TensorInfo Info(string key, DType dtype, ImmutableArray<long> shape, long count)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= shape[i];
        }
        var storage = new StorageSlice(new StorageRef(key, dtype, count, untyped: false, pickleOffset: 0), 0, null);
        return new TensorInfo(key, dtype, shape, [.. strides], 0, count, isParameter: false, storage);
    }

    /// <summary>The element count of <paramref name="shape"/>, if one array can hold it.</summary>
    public static int Count(string key, ImmutableArray<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            count = d == 0 ? 0 : count <= Array.MaxLength / d ? count * d
                : throw new InvalidOperationException($"'{key}' has more than {Array.MaxLength} elements once dense; one array cannot hold it");
        }
        return (int)count;
    }
}
