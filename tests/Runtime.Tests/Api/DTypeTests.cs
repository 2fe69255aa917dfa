using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>
/// Every dtype of torch 1.13 reads with its .NET element type and the values PyTorch wrote, in both container formats;
/// the wrong element type is refused; the element structs StateDict defines convert exactly.
/// </summary>
/// <remarks>
/// The concrete element values below come from <c>torch.load("dtypes.pth")</c> (torch 1.13, <c>/usr/bin/python3</c>),
/// printed with Python's <c>repr</c> (shortest round-trip), so each literal is exactly the stored value.
/// The same tensors are in <c>legacy_dtypes.pth</c>.
/// </remarks>
public class DTypeTests
{
    public static TheoryData<string> DTypeFixtures() => ["dtypes.pth", "legacy_dtypes.pth"];

    private static Checkpoint Open(string fixture) => Checkpoint.Open(Fixtures.PathOf(fixture));

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Float32_reads_as_float_with_the_values_PyTorch_wrote(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<float>("float32");
        var scalar = checkpoint.Read<float>("float32_scalar");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, scalar);
        // From torch.load: dtypes.pth["float32"].flatten().tolist() and ["float32_scalar"].item().
        Assert.Equal([149.24070739746094f, 176.68609619140625f, -24.826128005981445f, 60.55711364746094f, -285.50592041015625f, 34.57040023803711f], view.ToArray());
        Assert.Equal(-285.50592041015625f, view[1, 1]);
        Assert.Equal(176.68609619140625f, scalar.Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Float64_reads_as_double_with_the_values_PyTorch_wrote(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<double>("float64");
        var scalar = checkpoint.Read<double>("float64_scalar");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, scalar);
        // From torch.load: dtypes.pth["float64"].flatten().tolist().
        Assert.Equal([106.9503402709961, -4.462978839874268, -152.59414672851562, 86.33819580078125, 33.0582389831543, -59.731666564941406], view.ToArray());
        Assert.Equal(-4.462978839874268, scalar.Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Float16_reads_as_Half_with_the_values_PyTorch_wrote(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<Half>("float16");
        var scalar = checkpoint.Read<Half>("float16_scalar");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, scalar);
        // From torch.load: the values, and their bit patterns via .view(torch.int16).
        Assert.Equal([178.125f, -3.791015625f, -105.125f, -23.984375f, -107.25f, 136.875f], view.ToArray().Select(h => (float)h));
        Assert.Equal((ushort)0x5991, BitConverter.HalfToUInt16Bits(view[0, 0]));
        Assert.Equal((ushort)0xC395, BitConverter.HalfToUInt16Bits(scalar.Span[0]));
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void BFloat16_reads_as_BFloat16_with_the_bit_patterns_PyTorch_wrote(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<BFloat16>("bfloat16");
        var scalar = checkpoint.Read<BFloat16>("bfloat16_scalar");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, scalar);
        // From torch.load: dtypes.pth["bfloat16"].view(torch.int16) (as unsigned) and .tolist().
        Assert.Equal([0x40B5, 0x4160, 0x431C, 0xC1B2, 0x41ED, 0x41EB], view.ToArray().Select(b => (int)b.Bits));
        Assert.Equal([5.65625f, 14.0f, 156.0f, -22.25f, 29.625f, 29.375f], view.ToArray().Select(b => (float)b));
        Assert.Equal(14.0f, (float)scalar.Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Int64_reads_as_long_including_its_extremes(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<long>("int64");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, checkpoint.Read<long>("int64_scalar"));
        Assert.Equal([long.MinValue, -1L, 0L, 1L, 7L, long.MaxValue], view.ToArray());
        Assert.Equal(-1L, checkpoint.Read<long>("int64_scalar").Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Int32_reads_as_int_including_its_extremes(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<int>("int32");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, checkpoint.Read<int>("int32_scalar"));
        Assert.Equal([int.MinValue, -1, 0, 1, 7, int.MaxValue], view.ToArray());
        Assert.Equal(-1, checkpoint.Read<int>("int32_scalar").Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Int16_reads_as_short_including_its_extremes(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<short>("int16");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, checkpoint.Read<short>("int16_scalar"));
        Assert.Equal([short.MinValue, (short)-1, (short)0, (short)1, (short)7, short.MaxValue], view.ToArray());
        Assert.Equal((short)-1, checkpoint.Read<short>("int16_scalar").Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Int8_reads_as_sbyte_including_its_extremes(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<sbyte>("int8");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, checkpoint.Read<sbyte>("int8_scalar"));
        Assert.Equal([sbyte.MinValue, (sbyte)-1, (sbyte)0, (sbyte)1, (sbyte)7, sbyte.MaxValue], view.ToArray());
        Assert.Equal((sbyte)-1, checkpoint.Read<sbyte>("int8_scalar").Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void UInt8_reads_as_byte_over_its_whole_range(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<byte>("uint8");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, checkpoint.Read<byte>("uint8_scalar"));
        Assert.Equal([(byte)0, (byte)1, (byte)127, (byte)128, (byte)254, (byte)255], view.ToArray());
        Assert.Equal((byte)1, checkpoint.Read<byte>("uint8_scalar").Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Bool_reads_as_bool(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<bool>("bool");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, checkpoint.Read<bool>("bool_scalar"));
        Assert.Equal([true, false, true, false, false, true], view.ToArray());
        Assert.True(view[1, 2]);
        Assert.False(checkpoint.Read<bool>("bool_scalar").Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Complex64_reads_as_Complex64_real_then_imaginary(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<Complex64>("complex64");
        var scalar = checkpoint.Read<Complex64>("complex64_scalar");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, scalar);
        // From torch.load: dtypes.pth["complex64"].flatten()[:2] and ["complex64_scalar"].item().
        Assert.Equal(new Complex64(-0.3978668451309204f, -0.6267880797386169f), view[0, 0]);
        Assert.Equal(new Complex64(-0.14981597661972046f, -1.796539545059204f), view[0, 1]);
        Assert.Equal(new Complex64(-0.14981597661972046f, -1.796539545059204f), scalar.Span[0]);
    }

    [Theory]
    [MemberData(nameof(DTypeFixtures))]
    public void Complex128_reads_as_System_Numerics_Complex(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<Complex>("complex128");
        var scalar = checkpoint.Read<Complex>("complex128_scalar");

        ApiAssert.MatchesExpected(fixture, view);
        ApiAssert.MatchesExpected(fixture, scalar);
        // From torch.load: dtypes.pth["complex128"].flatten()[:2] and ["complex128_scalar"].item().
        Assert.Equal(new Complex(-0.3415230975646283, -0.4553441372476413), view[0, 0]);
        Assert.Equal(new Complex(0.17090726534676312, 1.1526639405471928), view[0, 1]);
        Assert.Equal(new Complex(0.17090726534676312, 1.1526639405471928), scalar.Span[0]);
    }

    /// <summary>Each dtype's scalar, asked for with a plausible wrong type (often one of the same size).</summary>
    public static TheoryData<string, Type> WrongTypes() => new()
    {
        { "float32_scalar", typeof(double) },
        { "float32_scalar", typeof(int) },
        { "float64_scalar", typeof(float) },
        { "float64_scalar", typeof(long) },
        { "float16_scalar", typeof(BFloat16) },
        { "bfloat16_scalar", typeof(Half) },
        { "int64_scalar", typeof(int) },
        { "int64_scalar", typeof(ulong) },
        { "int32_scalar", typeof(long) },
        { "int16_scalar", typeof(ushort) },
        { "int8_scalar", typeof(byte) },
        { "uint8_scalar", typeof(sbyte) },
        { "uint8_scalar", typeof(bool) },
        { "bool_scalar", typeof(byte) },
        { "complex64_scalar", typeof(Complex) },
        { "complex128_scalar", typeof(Complex64) },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public void Reading_with_the_wrong_element_type_throws_naming_key_stored_dtype_and_requested_type(string key, Type requested)
    {
        using var checkpoint = Open("dtypes.pth");
        var stored = checkpoint.Tensors[key].DType;

        var e = Assert.Throws<TensorTypeMismatchException>(() => ReadAs(checkpoint, key, requested));

        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(stored.Name(), e.Message);
        Assert.Contains(requested.Name, e.Message);
        Assert.Contains(Fixtures.PathOf("dtypes.pth"), e.Message);
        Assert.Equal(key, e.Key);
        Assert.Equal(stored, e.Stored);
        Assert.Equal(requested, e.Requested);
    }

    [Fact]
    public void Reading_with_the_wrong_element_type_is_refused_in_legacy_files_too()
    {
        using var checkpoint = Open("legacy_dtypes.pth");

        var e = Assert.Throws<TensorTypeMismatchException>(() => checkpoint.Read<Half>("bfloat16"));

        Assert.Contains("'bfloat16'", e.Message);
        Assert.Contains(nameof(Half), e.Message);
    }

    [Fact]
    public void Each_fixture_dtype_maps_to_the_documented_element_type()
    {
        using var checkpoint = Open("dtypes.pth");
        var expected = new Dictionary<string, (Type Clr, int Size)>
        {
            ["float32"] = (typeof(float), 4), ["float64"] = (typeof(double), 8), ["float16"] = (typeof(Half), 2),
            ["bfloat16"] = (typeof(BFloat16), 2), ["int64"] = (typeof(long), 8), ["int32"] = (typeof(int), 4),
            ["int16"] = (typeof(short), 2), ["int8"] = (typeof(sbyte), 1), ["uint8"] = (typeof(byte), 1),
            ["bool"] = (typeof(bool), 1), ["complex64"] = (typeof(Complex64), 8), ["complex128"] = (typeof(Complex), 16),
        };

        Assert.Equal(12, expected.Count);
        foreach (var (name, (clr, size)) in expected)
        {
            var dtype = checkpoint.Tensors[name].DType;
            Assert.Equal(name, dtype.Name());
            Assert.Equal(clr, dtype.ElementType());
            Assert.Equal(size, dtype.ElementSize());
            Assert.Equal(dtype, DTypeInfo.Of(clr));
        }
    }

    [Theory]
    [InlineData("float32", DType.Float32)]
    [InlineData("torch.float", DType.Float32)]
    [InlineData("double", DType.Float64)]
    [InlineData("half", DType.Float16)]
    [InlineData("torch.bfloat16", DType.BFloat16)]
    [InlineData("long", DType.Int64)]
    [InlineData("cfloat", DType.Complex64)]
    [InlineData("cdouble", DType.Complex128)]
    [InlineData("float8_e4m3fn", DType.Float8E4M3FN)]
    public void TryParse_accepts_PyTorch_dtype_names_and_aliases(string name, DType expected)
    {
        Assert.True(DTypeInfo.TryParse(name, out var dtype));
        Assert.Equal(expected, dtype);
    }

    [Theory]
    [InlineData("float33")]
    [InlineData("Float32")]
    [InlineData("")]
    public void TryParse_rejects_unknown_names(string name)
    {
        Assert.False(DTypeInfo.TryParse(name, out _));
    }

    [Fact]
    public void Of_returns_null_for_a_type_no_dtype_uses()
    {
        Assert.Null(DTypeInfo.Of<decimal>());
    }

    // ---- BFloat16 ----

    [Theory]
    [InlineData(0x3F80, 1f)]
    [InlineData(0xBF80, -1f)]
    [InlineData(0x0000, 0f)]
    [InlineData(0x4049, 3.140625f)]
    [InlineData(0x7F7F, 3.3895314e38f)]
    [InlineData(0x0001, 9.18355e-41f)]
    public void BFloat16_widens_to_float_exactly(int bits, float expected)
    {
        Assert.Equal(expected, (float)new BFloat16((ushort)bits));
    }

    [Fact]
    public void BFloat16_infinities_and_NaN_widen_to_their_float_counterparts()
    {
        Assert.Equal(float.PositiveInfinity, (float)new BFloat16(0x7F80));
        Assert.Equal(float.NegativeInfinity, (float)new BFloat16(0xFF80));
        Assert.True(float.IsNaN((float)new BFloat16(0x7FC0)));
        Assert.True(float.IsNaN((float)new BFloat16(0x7F81)));
        Assert.True(float.IsNegative((float)new BFloat16(0x8000)));
    }

    [Theory]
    [InlineData(0x3F800000, 0x3F80)]  // 1
    [InlineData(0xC0000000, 0xC000)]  // -2
    [InlineData(0x3F808000, 0x3F80)]  // 1 + 2^-8: exactly half-way, ties to even (down)
    [InlineData(0x3F818000, 0x3F82)]  // 1 + 3*2^-8: exactly half-way, ties to even (up)
    [InlineData(0x3F808001, 0x3F81)]  // just above half-way: rounds up
    [InlineData(0x3F807FFF, 0x3F80)]  // just below half-way: rounds down
    [InlineData(0x7F800000, 0x7F80)]  // +infinity stays infinity
    [InlineData(0x7F7FFFFF, 0x7F80)]  // float.MaxValue overflows to infinity, as torch does
    public void BFloat16_from_float_rounds_to_nearest_even(uint floatBits, int expectedBits)
    {
        float value = BitConverter.UInt32BitsToSingle(floatBits);

        Assert.Equal((ushort)expectedBits, ((BFloat16)value).Bits);
    }

    [Fact]
    public void BFloat16_from_NaN_is_a_quiet_NaN()
    {
        var nan = (BFloat16)float.NaN;

        Assert.Equal((ushort)0x7FC0, nan.Bits);
        Assert.True(float.IsNaN((float)nan));
    }

    [Fact]
    public void BFloat16_is_two_bytes_and_prints_its_value()
    {
        Assert.Equal(2, Unsafe.SizeOf<BFloat16>());
        Assert.Equal("1.5", new BFloat16(0x3FC0).ToString());
    }

    // ---- Complex64 ----

    [Fact]
    public void Complex64_is_real_then_imaginary_in_eight_bytes()
    {
        Complex64 value = new(1.5f, -2f);
        var floats = MemoryMarshal.Cast<Complex64, float>(new[] { value });

        Assert.Equal(8, Unsafe.SizeOf<Complex64>());
        Assert.Equal([1.5f, -2f], floats.ToArray());
    }

    [Fact]
    public void Complex64_widens_to_System_Numerics_Complex_exactly()
    {
        Complex widened = new Complex64(0.1f, -3.25f);

        Assert.Equal((double)0.1f, widened.Real);
        Assert.Equal(-3.25, widened.Imaginary);
    }

    [Fact]
    public void Complex64_compares_by_value_and_prints_invariantly()
    {
        Assert.Equal(new Complex64(1f, 2f), new Complex64(1f, 2f));
        Assert.NotEqual(new Complex64(1f, 2f), new Complex64(2f, 1f));
        Assert.Equal("(1.5, -2)", new Complex64(1.5f, -2f).ToString());
    }

    // ---- Float8 ----

    [Theory]
    [InlineData(0x38, 1f)]
    [InlineData(0xB8, -1f)]
    [InlineData(0x40, 2f)]
    [InlineData(0x3C, 1.5f)]
    [InlineData(0x7E, 448f)]          // the largest finite value: e4m3fn has no infinities
    [InlineData(0x78, 256f)]          // exponent all ones is still finite
    [InlineData(0x08, 0.015625f)]     // smallest normal, 2^-6
    [InlineData(0x01, 0.001953125f)]  // smallest subnormal, 2^-9
    [InlineData(0x00, 0f)]
    public void Float8E4M3FN_widens_to_float_exactly(int bits, float expected)
    {
        Assert.Equal(expected, (float)new Float8E4M3FN((byte)bits));
    }

    [Fact]
    public void Float8E4M3FN_has_NaN_only_at_all_ones_and_negative_zero()
    {
        Assert.True(float.IsNaN((float)new Float8E4M3FN(0x7F)));
        Assert.True(float.IsNaN((float)new Float8E4M3FN(0xFF)));
        Assert.Equal(-448f, (float)new Float8E4M3FN(0xFE));
        float negativeZero = (float)new Float8E4M3FN(0x80);
        Assert.Equal(0f, negativeZero);
        Assert.True(float.IsNegative(negativeZero));
    }

    [Theory]
    [InlineData(0x3C, 1f)]
    [InlineData(0xBC, -1f)]
    [InlineData(0x40, 2f)]
    [InlineData(0x3E, 1.5f)]
    [InlineData(0x7B, 57344f)]          // the largest finite value
    [InlineData(0x04, 0.00006103515625f)] // smallest normal, 2^-14
    [InlineData(0x01, 0.0000152587890625f)] // smallest subnormal, 2^-16
    public void Float8E5M2_widens_to_float_exactly(int bits, float expected)
    {
        Assert.Equal(expected, (float)new Float8E5M2((byte)bits));
    }

    [Fact]
    public void Float8E5M2_has_IEEE_infinities_and_NaNs()
    {
        Assert.Equal(float.PositiveInfinity, (float)new Float8E5M2(0x7C));
        Assert.Equal(float.NegativeInfinity, (float)new Float8E5M2(0xFC));
        Assert.True(float.IsNaN((float)new Float8E5M2(0x7D)));
        Assert.True(float.IsNaN((float)new Float8E5M2(0x7E)));
        Assert.True(float.IsNaN((float)new Float8E5M2(0x7F)));
        Assert.True(float.IsNaN((float)new Float8E5M2(0xFF)));
    }

    [Fact]
    public void Float8_types_are_one_byte_and_print_their_value()
    {
        Assert.Equal(1, Unsafe.SizeOf<Float8E4M3FN>());
        Assert.Equal(1, Unsafe.SizeOf<Float8E5M2>());
        Assert.Equal("1", new Float8E4M3FN(0x38).ToString());
        Assert.Equal("-1.5", new Float8E5M2(0xBE).ToString());
    }

    private static object ReadAs(Checkpoint checkpoint, string key, Type type) => type switch
    {
        _ when type == typeof(float) => checkpoint.Read<float>(key),
        _ when type == typeof(double) => checkpoint.Read<double>(key),
        _ when type == typeof(Half) => checkpoint.Read<Half>(key),
        _ when type == typeof(BFloat16) => checkpoint.Read<BFloat16>(key),
        _ when type == typeof(long) => checkpoint.Read<long>(key),
        _ when type == typeof(ulong) => checkpoint.Read<ulong>(key),
        _ when type == typeof(int) => checkpoint.Read<int>(key),
        _ when type == typeof(short) => checkpoint.Read<short>(key),
        _ when type == typeof(ushort) => checkpoint.Read<ushort>(key),
        _ when type == typeof(sbyte) => checkpoint.Read<sbyte>(key),
        _ when type == typeof(byte) => checkpoint.Read<byte>(key),
        _ when type == typeof(bool) => checkpoint.Read<bool>(key),
        _ when type == typeof(Complex64) => checkpoint.Read<Complex64>(key),
        _ when type == typeof(Complex) => checkpoint.Read<Complex>(key),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "add it to ReadAs"),
    };
}
