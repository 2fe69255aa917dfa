using StateDict.Tests.Hostile;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Binding;

/// <summary>
/// <see cref="Checkpoint.ReadSlice{T}(string, ReadOnlySpan{Range})"/>: the elements of <c>tensor[a:b, c:d]</c>, equal to
/// slicing the full read, reading only the bytes they occupy.
/// </summary>
public sealed class SliceTests
{
    public static TheoryData<TensorMemory> Modes() => [TensorMemory.Managed, TensorMemory.NativeArena, TensorMemory.MemoryMapped];

    [Theory]
    [MemberData(nameof(Modes))]
    public void Every_slice_of_every_float_tensor_equals_slicing_the_full_read(TensorMemory mode)
    {
        foreach (var file in new[] { "views.pth", "mlp.pth", "legacy_views.pth", "safetensors/mlp.safetensors" })
        {
            using var checkpoint = Checkpoint.Open(Fixtures.PathOf(file), new LoadOptions { Memory = mode });
            foreach (var tensor in checkpoint.Tensors.Values.Where(t => t.DType == DType.Float32 && t.Shape.Length > 0 && t.ElementCount > 0))
            {
                var full = checkpoint.Read<float>(tensor.Key).ToArray();
                foreach (var ranges in RangesFor(tensor.Shape.ToArray()))
                {
                    var slice = checkpoint.ReadSlice<float>(tensor.Key, ranges);
                    var (expected, shape) = Slice(full, tensor.Shape.ToArray(), ranges);
                    Assert.Equal(shape, slice.Shape.ToArray());
                    Assert.Equal(expected, slice.ToArray());
                    Assert.Equal(tensor, slice.Info);

                    // The same elements into the caller's buffer; what lies after them is left alone.
                    var buffer = Enumerable.Repeat(-7f, expected.Length + 3).ToArray();
                    Assert.Equal(expected.Length, checkpoint.CopySliceTo<float>(tensor.Key, buffer, ranges));
                    Assert.Equal(expected, buffer[..expected.Length]);
                    Assert.Equal([-7f, -7f, -7f], buffer[expected.Length..]);
                }
            }
        }
    }

    [Fact]
    public void A_slice_reads_only_the_bytes_of_its_elements()
    {
        using var temp = new TempFile([]);
        var data = Enumerable.Range(0, 256 * 1024).Select(i => (float)i).ToArray(); // [1024, 256] = 1 MiB
        new StateDictWriter().Add<float>("w", [1024, 256], data).Add<float>("t", [64, 4096], data).Save(temp.Path);
        using var checkpoint = Checkpoint.Open(temp.Path, new LoadOptions { Memory = TensorMemory.NativeArena });
        var file = checkpoint.File;
        long before = file.BytesRead;

        var rows = checkpoint.ReadSlice<float>("w", 128..256);          // 128 rows: 128 KiB
        Assert.Equal(128L * 256 * 4, file.BytesRead - before);
        Assert.Equal(data.AsSpan(128 * 256, 128 * 256).ToArray(), rows.ToArray());

        before = file.BytesRead;
        var block = checkpoint.ReadSlice<float>("t", 10..20, 1024..); // 10 rows of 3072 columns: 120 KiB, in 10 runs
        Assert.Equal(10L * 3072 * 4, file.BytesRead - before);
        Assert.Equal(30720, block.Length);
        Assert.Equal((10 * 4096) + 1024, block[0, 0]);
        Assert.Equal((19 * 4096) + 4095, block[9, 3071]);

        // Into the caller's memory: the same bytes read, nothing loaded, the same elements.
        var into = new float[30720];
        before = file.BytesRead;
        checkpoint.CopySliceTo<float>("t", into, 10..20, 1024..);
        Assert.Equal(10L * 3072 * 4, file.BytesRead - before);
        Assert.Equal(block.ToArray(), into);
    }

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    public void Large_slices_and_CopyTo_read_only_their_bytes_in_parts_without_loading_the_storage(TensorMemory mode)
    {
        using var temp = new TempFile([]);
        // [4096, 1000] floats = 16 MB: ranges from 8 MiB are read in parts on several threads, part edges
        // falling mid-row (4,000-byte rows), so every byte must still land in its place.
        var data = Enumerable.Range(0, 4096 * 1000).Select(i => (float)i).ToArray();
        new StateDictWriter().Add<float>("w", [4096, 1000], data).Save(temp.Path);
        using var checkpoint = Checkpoint.Open(temp.Path, new LoadOptions { Memory = mode });
        var file = checkpoint.File;

        long before = file.BytesRead;
        var rows = checkpoint.ReadSlice<float>("w", 3..3000);
        Assert.Equal(2997L * 1000 * 4, file.BytesRead - before);
        Assert.Equal(data.AsSpan(3000, 2997 * 1000).ToArray(), rows.ToArray());

        before = file.BytesRead;
        var into = new float[2997 * 1000];
        checkpoint.CopySliceTo<float>("w", into, 3..3000);
        Assert.Equal(2997L * 1000 * 4, file.BytesRead - before);
        Assert.Equal(rows.ToArray(), into);

        before = file.BytesRead;
        var part = new float[2_500_001];
        checkpoint.CopyTo("w", 12_345, part.AsSpan());
        Assert.Equal(2_500_001L * 4, file.BytesRead - before);
        Assert.Equal(data.AsSpan(12_345, part.Length).ToArray(), part);

        // Neither read loaded the storage: a full read now reads all 16 MB, once.
        before = file.BytesRead;
        Assert.Equal(data, checkpoint.Read<float>("w").ToArray());
        checkpoint.CopyTo("w", 0, part.AsSpan());
        Assert.Equal(4096L * 1000 * 4, file.BytesRead - before);
        Assert.Equal(data.AsSpan(0, part.Length).ToArray(), part);
    }

    [Fact]
    public void Mapped_contiguous_slices_are_views_of_the_file()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), new LoadOptions { Memory = TensorMemory.MemoryMapped });
        var key = checkpoint.Tensors.Values.First(t => t.Shape.Length == 2).Key;
        var full = checkpoint.Read<float>(key);
        var slice = checkpoint.ReadSlice<float>(key, 1..3);
        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(slice.Span),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(full.Span[(int)full.Shape[1]..])));
    }

    [Fact]
    public void Bad_ranges_are_argument_errors_naming_the_dimension()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"));
        var tensor = checkpoint.Tensors.Values.First(t => t.Shape.Length == 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.ReadSlice<float>(tensor.Key, 0..(int)(tensor.Shape[0] + 1)));
        Assert.Contains("dimension 0", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => checkpoint.ReadSlice<float>(tensor.Key, .., .., ..));
        Assert.Throws<TensorTypeMismatchException>(() => checkpoint.ReadSlice<double>(tensor.Key, ..1));
        var tooShort = Assert.Throws<ArgumentException>(() => checkpoint.CopySliceTo<float>(tensor.Key, new float[(int)tensor.Shape[1]], ..2));
        Assert.Equal("destination", tooShort.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.CopySliceTo<float>(tensor.Key, new float[tensor.ElementCount], 0..(int)(tensor.Shape[0] + 1)));
    }

    [Fact]
    public void Slices_convert_with_ReadSliceAs()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("dtypes.pth"));
        var key = checkpoint.Tensors.Values.First(t => t.DType == DType.BFloat16 && t.Shape.Length > 0 && t.Shape[0] > 1).Key;
        var full = checkpoint.ReadAs<float>(key).ToArray();
        var part = checkpoint.ReadSliceAs<float>(key, 1..);
        Assert.Equal(full[(full.Length / (int)part.Info.Shape[0])..], part.ToArray());
        Assert.Equal(DType.Float32, part.DType);
    }

    private static IEnumerable<Range[]> RangesFor(long[] shape)
    {
        int n0 = (int)shape[0];
        yield return [Range.All];
        yield return [0..0];
        yield return [(n0 / 2)..];
        yield return [0..Math.Max(1, n0 / 3)];
        if (shape.Length > 1)
        {
            int n1 = (int)shape[1];
            yield return [1.., ^Math.Max(1, n1 / 2)..];
            yield return [Range.All, 0..1];
            if (shape.Length > 2)
            {
                yield return [Range.All, Range.All, 1..];
            }
        }
    }

    /// <summary>Slices a row-major array the plain way, as the oracle.</summary>
    private static (float[] Values, long[] Shape) Slice(float[] full, long[] shape, Range[] ranges)
    {
        var starts = new long[shape.Length];
        var lengths = (long[])shape.Clone();
        for (int d = 0; d < ranges.Length; d++)
        {
            var (offset, length) = ranges[d].GetOffsetAndLength((int)shape[d]);
            starts[d] = offset;
            lengths[d] = length;
        }
        var result = new List<float>();
        var index = new long[shape.Length];
        long total = lengths.Aggregate(1L, (a, b) => a * b);
        for (long n = 0; n < total; n++)
        {
            long rest = n;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = starts[d] + (rest % lengths[d]);
                rest /= lengths[d];
            }
            long flat = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                flat = (flat * shape[d]) + index[d];
            }
            result.Add(full[flat]);
        }
        return (result.ToArray(), lengths);
    }
}
