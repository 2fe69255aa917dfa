using Xunit;

namespace StateDict.Tests.Api;

/// <summary>
/// The float8/float6/float4 element types against their format definitions (OCP 8-bit FP / OCP MX v1.0, and the FNUZ
/// formats as ml_dtypes and torch define them), on every bit pattern: value = (-1)^s · 2^(E - bias) · (1 + M/2^m),
/// subnormal (E = 0) = (-1)^s · 2^(1 - bias) · M/2^m, with each format's NaN/infinity codes; plus the anchor values the
/// specifications tabulate (max normal, min subnormal).
/// </summary>
public class SmallFloatTests
{
    private enum Rule { Ieee, AllOnesNaN, NegativeZeroNaN, Finite }

    /// <summary>The specification's formula, in double arithmetic with Math.Pow (independent of the runtime's ScaleB decoder).</summary>
    private static double Spec(int code, int e, int m, int bias, Rule rule)
    {
        int sign = (code >> (e + m)) & 1;
        int exponent = (code >> m) & ((1 << e) - 1);
        int mantissa = code & ((1 << m) - 1);
        bool topExponent = exponent == (1 << e) - 1;
        if (rule == Rule.Ieee && topExponent)
        {
            return mantissa == 0 ? (sign == 1 ? double.NegativeInfinity : double.PositiveInfinity) : double.NaN;
        }
        if ((rule == Rule.AllOnesNaN && topExponent && mantissa == (1 << m) - 1) || (rule == Rule.NegativeZeroNaN && code == 1 << (e + m)))
        {
            return double.NaN;
        }
        double fraction = mantissa / Math.Pow(2, m);
        double magnitude = exponent == 0 ? fraction * Math.Pow(2, 1 - bias) : (1 + fraction) * Math.Pow(2, exponent - bias);
        return sign == 1 ? -magnitude : magnitude;
    }

    private static void SameValue(double expected, float actual, int code)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"code 0x{code:X2}: expected NaN, got {actual}");
            return;
        }
        Assert.True(BitConverter.SingleToInt32Bits((float)expected) == BitConverter.SingleToInt32Bits(actual),
            $"code 0x{code:X2}: expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public void Float8_e4m3fn_matches_its_definition_on_every_byte()
    {
        for (int b = 0; b < 256; b++)
        {
            SameValue(Spec(b, 4, 3, 7, Rule.AllOnesNaN), (float)new Float8E4M3FN((byte)b), b);
        }
        Assert.Equal(448f, (float)new Float8E4M3FN(0x7E));
        Assert.Equal(MathF.Pow(2, -9), (float)new Float8E4M3FN(0x01));
    }

    [Fact]
    public void Float8_e5m2_matches_its_definition_on_every_byte()
    {
        for (int b = 0; b < 256; b++)
        {
            SameValue(Spec(b, 5, 2, 15, Rule.Ieee), (float)new Float8E5M2((byte)b), b);
        }
        Assert.Equal(57344f, (float)new Float8E5M2(0x7B));
        Assert.Equal(float.NegativeInfinity, (float)new Float8E5M2(0xFC));
    }

    [Fact]
    public void Float8_e4m3fnuz_matches_its_definition_on_every_byte()
    {
        for (int b = 0; b < 256; b++)
        {
            SameValue(Spec(b, 4, 3, 8, Rule.NegativeZeroNaN), (float)new Float8E4M3FNUZ((byte)b), b);
        }
        Assert.Equal(240f, (float)new Float8E4M3FNUZ(0x7F));
        Assert.Equal(MathF.Pow(2, -10), (float)new Float8E4M3FNUZ(0x01));
        Assert.True(float.IsNaN((float)new Float8E4M3FNUZ(0x80)));
        Assert.Equal(-240f, (float)new Float8E4M3FNUZ(0xFF));   // no NaN but 0x80: 0xFF is a number
    }

    [Fact]
    public void Float8_e5m2fnuz_matches_its_definition_on_every_byte()
    {
        for (int b = 0; b < 256; b++)
        {
            SameValue(Spec(b, 5, 2, 16, Rule.NegativeZeroNaN), (float)new Float8E5M2FNUZ((byte)b), b);
        }
        Assert.Equal(57344f, (float)new Float8E5M2FNUZ(0x7F));
        Assert.Equal(MathF.Pow(2, -17), (float)new Float8E5M2FNUZ(0x01));
    }

    [Fact]
    public void Float8_e8m0fnu_is_a_power_of_two_on_every_byte_but_NaN()
    {
        for (int b = 0; b < 255; b++)
        {
            SameValue(Math.Pow(2, b - 127), (float)new Float8E8M0FNU((byte)b), b);
        }
        Assert.True(float.IsNaN((float)new Float8E8M0FNU(0xFF)));
        Assert.Equal(MathF.Pow(2, 127), (float)new Float8E8M0FNU(0xFE));
    }

    [Fact]
    public void Float4_e2m1_pairs_decode_both_nibbles_of_every_byte()
    {
        float[] positive = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f]; // OCP MX v1.0, table of FP4 E2M1 values
        for (int b = 0; b < 256; b++)
        {
            var pair = new Float4E2M1FNx2((byte)b);
            SameValue(Spec(b & 0xF, 2, 1, 1, Rule.Finite), pair.First, b);
            SameValue(Spec(b >> 4, 2, 1, 1, Rule.Finite), pair.Second, b);
            Assert.Equal((b & 8) == 0 ? positive[b & 7] : -positive[b & 7], pair.First);
        }
    }

    [Fact]
    public void Float6_formats_match_their_definitions_on_every_code_in_every_slot()
    {
        for (int code = 0; code < 64; code++)
        {
            for (int slot = 0; slot < 4; slot++)
            {
                int word = code << (6 * slot);
                var e2m3 = new Float6E2M3x4((byte)word, (byte)(word >> 8), (byte)(word >> 16));
                var e3m2 = new Float6E3M2x4((byte)word, (byte)(word >> 8), (byte)(word >> 16));
                SameValue(Spec(code, 2, 3, 1, Rule.Finite), e2m3[slot], code);
                SameValue(Spec(code, 3, 2, 3, Rule.Finite), e3m2[slot], code);
            }
        }
        Assert.Equal(7.5f, Float6E2M3x4.Decode(0x1F));   // max normal, OCP MX v1.0
        Assert.Equal(0.125f, Float6E2M3x4.Decode(0x01)); // min subnormal
        Assert.Equal(28f, Float6E3M2x4.Decode(0x1F));
        Assert.Equal(0.0625f, Float6E3M2x4.Decode(0x01));
    }

    [Fact]
    public void Complex32_widens_both_halves_exactly()
    {
        var z = new Complex32((Half)65504f, (Half)(-0.5f));

        Assert.Equal(new Complex64(65504f, -0.5f), (Complex64)z);
        Assert.Equal(new System.Numerics.Complex(65504, -0.5), (System.Numerics.Complex)z);
    }

    [Theory]
    [InlineData("F4", DType.Float4E2M1FNx2, "float4_e2m1fn_x2")]
    [InlineData("F6_E2M3", DType.Float6E2M3x4, "float6_e2m3fn_x4")]
    [InlineData("F8_E8M0", DType.Float8E8M0FNU, "float8_e8m0fnu")]
    [InlineData("F8_E4M3FNUZ", DType.Float8E4M3FNUZ, "float8_e4m3fnuz")]
    [InlineData("F8_E5M2FNUZ", DType.Float8E5M2FNUZ, "float8_e5m2fnuz")]
    public void Every_safetensors_dtype_has_a_DType_and_a_torch_style_name(string code, DType dtype, string name)
    {
        Assert.True(DTypeInfo.TryParseSafetensors(code, out var parsed));
        Assert.Equal(dtype, parsed);
        Assert.Equal(code, dtype.SafetensorsName());
        Assert.Equal(name, dtype.Name());
        Assert.True(DTypeInfo.TryParse("torch." + name, out var byName) && byName == dtype);
    }

    [Fact]
    public void Chalf_names_complex32()
    {
        Assert.True(DTypeInfo.TryParse("torch.chalf", out var dtype));
        Assert.Equal(DType.Complex32, dtype);
        Assert.Equal(4, dtype.ElementSize());
    }
}
