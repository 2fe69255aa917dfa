using System.Security.Cryptography;
using System.Text.Json;
using StateDict.Reading;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Binding;

/// <summary>
/// <see cref="Checkpoint.ReadAs{T}(string)"/> against what PyTorch's <c>tensor.to(dtype)</c> returned, bit for bit
/// (tests/fixtures/conversion, written by make_conversion_fixture.py with torch 1.13): every float16 and bfloat16 bit
/// pattern, and random float32/float64/integer inputs with ties, subnormals, NaN payloads, infinities and overflow.
/// </summary>
public sealed class ConversionTests
{
    public static TheoryData<string, string, int, string> TorchConversions()
    {
        var data = new TheoryData<string, string, int, string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("conversion/conversion.expected.json")));
        foreach (var row in doc.RootElement.GetProperty("conversions").EnumerateArray())
        {
            data.Add(row.GetProperty("source").GetString()!, row.GetProperty("target").GetString()!,
                row.GetProperty("count").GetInt32(), row.GetProperty("sha256").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TorchConversions))]
    public void ReadAs_matches_torch_to_dtype_bit_for_bit(string source, string target, int count, string sha256)
    {
        using var checkpoint = OpenSource(source);
        Assert.True(DTypeInfo.TryParse(target, out var to));
        var bytes = to switch
        {
            DType.Float32 => Bytes(checkpoint.ReadAs<float>(source)),
            DType.Float64 => Bytes(checkpoint.ReadAs<double>(source)),
            DType.Float16 => Bytes(checkpoint.ReadAs<Half>(source)),
            _ => Bytes(checkpoint.ReadAs<BFloat16>(source)),
        };
        Assert.Equal(count * to.ElementSize(), bytes.Length);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public void Converted_view_has_the_target_dtype_and_the_stored_shape()
    {
        using var checkpoint = OpenSource("all_bfloat16");
        var view = checkpoint.ReadAs<float>("all_bfloat16");
        Assert.Equal(DType.Float32, view.DType);
        Assert.Equal(DType.BFloat16, view.Info.DType);
        Assert.Equal([65536L], view.Shape.ToArray());
        Assert.Equal(1.0f, view[0x3F80]);
    }

    [Fact]
    public void Same_type_is_a_plain_read_sharing_the_storage()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("conversion/conversion.pth"));
        var read = checkpoint.Read<float>("f32");
        var same = checkpoint.ReadAs<float>("f32");
        Assert.True(read.Span == same.Span);
    }

    [Fact]
    public void Types_that_cannot_hold_the_values_are_refused()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("conversion/conversion.pth"));
        Assert.Throws<TensorTypeMismatchException>(() => checkpoint.ReadAs<int>("f32"));
        Assert.Throws<TensorTypeMismatchException>(() => checkpoint.ReadAs<long>("i32"));
    }

    [Fact]
    public void Conversion_of_a_strided_view_is_row_major()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("views.pth"));
        var key = checkpoint.Tensors.Values.First(t => !t.IsContiguous && t.DType == DType.Float32).Key;
        var direct = checkpoint.Read<float>(key).ToArray();
        var asDouble = checkpoint.ReadAs<double>(key).ToArray();
        Assert.Equal(direct.Select(x => (double)x), asDouble);
    }

    [Fact]
    public void Widening_bfloat16_is_a_shift_at_every_length()
    {
        // The vector loop and its scalar tail must agree: lengths around the vector width.
        for (int n = 0; n < 70; n++)
        {
            var bits = Enumerable.Range(0, n).Select(i => (ushort)(i * 977 + 0x3F00)).ToArray();
            var output = new float[n];
            FloatConversion.Convert(DType.BFloat16, System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()), DType.Float32,
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(output.AsSpan()));
            Assert.Equal(bits.Select(b => BitConverter.Int32BitsToSingle(b << 16)), output);
        }
    }

    [Fact]
    public void Narrowing_float32_to_bfloat16_agrees_between_vector_loop_and_tail()
    {
        var random = new Random(7);
        for (int n = 0; n < 70; n++)
        {
            var values = Enumerable.Range(0, n).Select(_ => BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue))).ToArray();
            var output = new ushort[n];
            FloatConversion.Convert(DType.Float32, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), DType.BFloat16,
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(output.AsSpan()));
            for (int i = 0; i < n; i++)
            {
                ushort expected = float.IsNaN(values[i]) ? (ushort)0xFFFF : ((BFloat16)values[i]).Bits; // the scalar struct rounds the same way
                Assert.Equal(expected, output[i]);
            }
        }
    }

    /// <summary>A checkpoint holding <paramref name="source"/>: every bit pattern (built here, saved and reopened from memory) or conversion.pth's tensor.</summary>
    private static Checkpoint OpenSource(string source)
    {
        if (!source.StartsWith("all_", StringComparison.Ordinal))
        {
            return Checkpoint.Open(Fixtures.PathOf("conversion/conversion.pth"));
        }
        Assert.True(DTypeInfo.TryParse(source["all_".Length..], out var dtype));
        var patterns = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++)
        {
            BitConverter.TryWriteBytes(patterns.AsSpan(2 * i), (ushort)i);
        }
        var stream = new MemoryStream();
        new StateDictWriter().Add(source, dtype, [65536], patterns).Save(stream, SaveFormat.Pth);
        stream.Position = 0;
        return Checkpoint.Open(stream, name: source + ".pth");
    }

    private static byte[] Bytes<T>(TensorView<T> view) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(view.Span).ToArray();
}
