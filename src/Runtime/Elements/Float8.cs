using System.Runtime.InteropServices;

namespace StateDict;

/// <summary>
/// An 8-bit float with 4 exponent and 3 mantissa bits, no infinities (<c>torch.float8_e4m3fn</c>).
/// Stores the raw byte; converts to <see cref="float"/> exactly.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly record struct Float8E4M3FN(byte Bits)
{
    /// <summary>The value as a <see cref="float"/> (exact). 0x7F and 0xFF are NaN.</summary>
    public static explicit operator float(Float8E4M3FN value) => Float8Bits.Decode(value.Bits, exponentBits: 4, bias: 7, hasInfinity: false);

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// An 8-bit float with 5 exponent and 2 mantissa bits, IEEE-like (<c>torch.float8_e5m2</c>).
/// Stores the raw byte; converts to <see cref="float"/> exactly.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly record struct Float8E5M2(byte Bits)
{
    /// <summary>The value as a <see cref="float"/> (exact).</summary>
    public static explicit operator float(Float8E5M2 value) => Float8Bits.Decode(value.Bits, exponentBits: 5, bias: 15, hasInfinity: true);

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

internal static class Float8Bits
{
    public static float Decode(byte bits, int exponentBits, int bias, bool hasInfinity)
    {
        int mantissaBits = 7 - exponentBits;
        int sign = bits >> 7;
        int exponent = (bits >> mantissaBits) & ((1 << exponentBits) - 1);
        int mantissa = bits & ((1 << mantissaBits) - 1);
        int maxExponent = (1 << exponentBits) - 1;
        float magnitude;
        if (hasInfinity && exponent == maxExponent)
        {
            magnitude = mantissa == 0 ? float.PositiveInfinity : float.NaN;
        }
        else if (!hasInfinity && exponent == maxExponent && mantissa == (1 << mantissaBits) - 1)
        {
            magnitude = float.NaN;
        }
        else if (exponent == 0)
        {
            magnitude = MathF.ScaleB(mantissa, 1 - bias - mantissaBits);
        }
        else
        {
            magnitude = MathF.ScaleB(mantissa + (1 << mantissaBits), exponent - bias - mantissaBits);
        }
        return sign == 1 ? -magnitude : magnitude;
    }
}
