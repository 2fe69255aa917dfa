using System.Runtime.InteropServices;

namespace StateDict;

/// <summary>
/// Two OCP MX float4 (E2M1: 2 exponent bits, 1 mantissa bit, bias 1, no NaN or infinity; ±0 … ±6) packed in one byte
/// (<c>torch.float4_e2m1fn_x2</c>; safetensors <c>F4</c>). Element 0 is the low nibble, element 1 the high nibble,
/// as torch and torchao pack them; a tensor's shape counts bytes (its last dimension is half the number of float4 values).
/// </summary>
/// <example><code>float a = view.Span[0].First, b = view.Span[0].Second;</code></example>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly record struct Float4E2M1FNx2(byte Bits)
{
    /// <summary>Element 0 (bits 0–3), exact.</summary>
    public float First => Decode(Bits & 0xF);

    /// <summary>Element 1 (bits 4–7), exact.</summary>
    public float Second => Decode(Bits >> 4);

    /// <summary>Decodes one 4-bit E2M1 code (the low 4 bits of <paramref name="code"/>).</summary>
    public static float Decode(int code) => MiniFloat.Decode(code & 0xF, exponentBits: 2, mantissaBits: 1, bias: 1, MiniFloatSpecials.Finite);

    /// <inheritdoc/>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({First}, {Second})");
}

/// <summary>
/// Four OCP MX float6 E2M3 values (2 exponent bits, 3 mantissa bits, bias 1, all finite; ±0 … ±7.5) packed in three
/// bytes (safetensors <c>F6_E2M3</c>; torch has no such dtype). Element <c>i</c> is bits <c>6i … 6i+5</c> of the
/// little-endian 24-bit word (least significant bits first). A tensor's shape counts groups of four: its last
/// dimension is a quarter of the number of float6 values.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 3)]
public readonly record struct Float6E2M3x4(byte Byte0, byte Byte1, byte Byte2)
{
    /// <summary>Element <paramref name="index"/> (0–3), exact.</summary>
    public float this[int index] => Decode(PackedFloat6.Code(Byte0, Byte1, Byte2, index));

    /// <summary>Decodes one 6-bit E2M3 code (the low 6 bits of <paramref name="code"/>).</summary>
    public static float Decode(int code) => MiniFloat.Decode(code & 0x3F, exponentBits: 2, mantissaBits: 3, bias: 1, MiniFloatSpecials.Finite);

    /// <inheritdoc/>
    public override string ToString() => PackedFloat6.Format(this[0], this[1], this[2], this[3]);
}

/// <summary>
/// Four OCP MX float6 E3M2 values (3 exponent bits, 2 mantissa bits, bias 3, all finite; ±0 … ±28) packed in three
/// bytes (safetensors <c>F6_E3M2</c>; torch has no such dtype), laid out like <see cref="Float6E2M3x4"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 3)]
public readonly record struct Float6E3M2x4(byte Byte0, byte Byte1, byte Byte2)
{
    /// <summary>Element <paramref name="index"/> (0–3), exact.</summary>
    public float this[int index] => Decode(PackedFloat6.Code(Byte0, Byte1, Byte2, index));

    /// <summary>Decodes one 6-bit E3M2 code (the low 6 bits of <paramref name="code"/>).</summary>
    public static float Decode(int code) => MiniFloat.Decode(code & 0x3F, exponentBits: 3, mantissaBits: 2, bias: 3, MiniFloatSpecials.Finite);

    /// <inheritdoc/>
    public override string ToString() => PackedFloat6.Format(this[0], this[1], this[2], this[3]);
}

internal static class PackedFloat6
{
    public static int Code(byte b0, byte b1, byte b2, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, 3);
        int word = b0 | (b1 << 8) | (b2 << 16);
        return (word >> (6 * index)) & 0x3F;
    }

    public static string Format(float a, float b, float c, float d) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({a}, {b}, {c}, {d})");
}
