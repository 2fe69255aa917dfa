using System.Text;
using Xunit;

namespace StateDict.Tests.Binding;

/// <summary>
/// <see cref="Checkpoint.ReadAs{T}(string)"/> of every 8-bit float pattern (torch 1.13 on this machine has no float8
/// dtypes, so the reference is c10's source): values are the element structs' exact decodings, and NaNs carry the bits
/// c10's conversions produce. float8_e4m3fn: <c>fp8e4m3fn_to_fp32_value</c>'s bit arithmetic gives sign | 0x7FF00000;
/// float8_e5m2 goes through <c>fp16_ieee_to_fp32_value</c>, whose multiply quiets the payload (sign | 0x7FC00000 |
/// mantissa &lt;&lt; 21); the FNUZ formats (<c>Float8_fnuz_cvt.h</c>) and float8_e8m0fnu (<c>Float8_e8m0fnu-inl.h</c>) return
/// 0x7F800001; e8m0's 0 is 2^-127 (0x00400000).
/// </summary>
public sealed class Float8ConversionTests
{
    [Theory]
    [InlineData("F8_E4M3", 0x7F, 0x7FF0_0000)]
    [InlineData("F8_E4M3", 0xFF, unchecked((int)0xFFF0_0000))]
    [InlineData("F8_E5M2", 0x7D, 0x7FE0_0000)]
    [InlineData("F8_E5M2", 0x7E, 0x7FC0_0000)]
    [InlineData("F8_E5M2", 0xFF, unchecked((int)0xFFE0_0000))]
    [InlineData("F8_E4M3FNUZ", 0x80, 0x7F80_0001)]
    [InlineData("F8_E5M2FNUZ", 0x80, 0x7F80_0001)]
    [InlineData("F8_E8M0", 0xFF, 0x7F80_0001)]
    [InlineData("F8_E8M0", 0x00, 0x0040_0000)]
    public void Special_patterns_read_as_c10_converts_them(string dtype, int pattern, int float32Bits)
    {
        using var checkpoint = Checkpoint.Open(AllPatterns(dtype));

        var values = checkpoint.ReadAs<float>("x").Span;

        Assert.Equal(float32Bits, BitConverter.SingleToInt32Bits(values[pattern]));
    }

    [Theory]
    [InlineData("F8_E4M3")]
    [InlineData("F8_E5M2")]
    [InlineData("F8_E4M3FNUZ")]
    [InlineData("F8_E5M2FNUZ")]
    [InlineData("F8_E8M0")]
    public void Every_other_pattern_reads_as_its_exact_value(string dtype)
    {
        using var checkpoint = Checkpoint.Open(AllPatterns(dtype));
        var raw = checkpoint.ReadBytes("x").ToArray();

        var floats = checkpoint.ReadAs<float>("x").Span;
        var doubles = checkpoint.ReadAs<double>("x").Span;

        for (int b = 0; b < 256; b++)
        {
            float exact = dtype switch
            {
                "F8_E4M3" => (float)new Float8E4M3FN(raw[b]),
                "F8_E5M2" => (float)new Float8E5M2(raw[b]),
                "F8_E4M3FNUZ" => (float)new Float8E4M3FNUZ(raw[b]),
                "F8_E5M2FNUZ" => (float)new Float8E5M2FNUZ(raw[b]),
                _ => (float)new Float8E8M0FNU(raw[b]),
            };
            Assert.Equal(float.IsNaN(exact), float.IsNaN(floats[b]));
            if (!float.IsNaN(exact))
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(exact), BitConverter.SingleToInt32Bits(floats[b]));
                Assert.Equal((double)exact, doubles[b]);
            }
        }
    }

    /// <summary>A safetensors file with one tensor "x" of the 256 patterns 0x00..0xFF.</summary>
    private static ReadOnlyMemory<byte> AllPatterns(string dtype)
    {
        var header = Encoding.UTF8.GetBytes($"{{\"x\":{{\"dtype\":\"{dtype}\",\"shape\":[256],\"data_offsets\":[0,256]}}}}");
        var file = new byte[8 + header.Length + 256];
        BitConverter.TryWriteBytes(file.AsSpan(0, 8), (ulong)header.Length);
        header.CopyTo(file, 8);
        for (int b = 0; b < 256; b++)
        {
            file[8 + header.Length + b] = (byte)b;
        }
        return file;
    }
}
