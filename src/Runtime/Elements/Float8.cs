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
    public static explicit operator float(Float8E4M3FN value) => MiniFloat.Decode(value.Bits, exponentBits: 4, mantissaBits: 3, bias: 7, MiniFloatSpecials.FiniteAllOnesNaN);

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
    public static explicit operator float(Float8E5M2 value) => MiniFloat.Decode(value.Bits, exponentBits: 5, mantissaBits: 2, bias: 15, MiniFloatSpecials.Ieee);

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// An 8-bit float with 4 exponent and 3 mantissa bits, bias 8, no infinities and no negative zero
/// (<c>torch.float8_e4m3fnuz</c>, safetensors <c>F8_E4M3FNUZ</c>). Stores the raw byte; converts to <see cref="float"/> exactly.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly record struct Float8E4M3FNUZ(byte Bits)
{
    /// <summary>The value as a <see cref="float"/> (exact). 0x80, the would-be negative zero, is the only NaN.</summary>
    public static explicit operator float(Float8E4M3FNUZ value) => MiniFloat.Decode(value.Bits, exponentBits: 4, mantissaBits: 3, bias: 8, MiniFloatSpecials.FiniteNegativeZeroNaN);

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// An 8-bit float with 5 exponent and 2 mantissa bits, bias 16, no infinities and no negative zero
/// (<c>torch.float8_e5m2fnuz</c>, safetensors <c>F8_E5M2FNUZ</c>). Stores the raw byte; converts to <see cref="float"/> exactly.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly record struct Float8E5M2FNUZ(byte Bits)
{
    /// <summary>The value as a <see cref="float"/> (exact). 0x80, the would-be negative zero, is the only NaN.</summary>
    public static explicit operator float(Float8E5M2FNUZ value) => MiniFloat.Decode(value.Bits, exponentBits: 5, mantissaBits: 2, bias: 16, MiniFloatSpecials.FiniteNegativeZeroNaN);

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// An 8-bit unsigned power of two, the OCP MX scale format (<c>torch.float8_e8m0fnu</c>, safetensors <c>F8_E8M0</c>):
/// the byte <c>e</c> is 2^(e − 127); 0xFF is NaN; there is no zero, sign or infinity.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly record struct Float8E8M0FNU(byte Bits)
{
    /// <summary>The value as a <see cref="float"/> (exact: 2^-127 is a float subnormal).</summary>
    public static explicit operator float(Float8E8M0FNU value) => value.Bits == 0xFF ? float.NaN : MathF.ScaleB(1f, value.Bits - 127);

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
