namespace StateDict.Reading;

/// <summary>
/// Every 8-bit float as float32, the way PyTorch's c10 converts it (<c>tensor.to(torch.float32)</c>), one 256-entry
/// table per format. Values are the exact decodings of the element structs; NaNs carry c10's bit patterns, which differ
/// from .NET's <see cref="float.NaN"/>: float8_e4m3fn keeps its sign with mantissa 0x700000 (its bit arithmetic),
/// float8_e5m2 goes through float16 and comes out quieted with its payload, the FNUZ formats and float8_e8m0fnu return
/// the signalling pattern 0x7F800001 (c10's Float8_fnuz_cvt.h and Float8_e8m0fnu-inl.h).
/// </summary>
internal static class Float8Tables
{
    private static readonly float[] E4M3FN = Build(b => (float)new Float8E4M3FN((byte)b), b => (b & 0x80) << 24 | 0x7FF0_0000);
    private static readonly float[] E5M2 = Build(b => (float)new Float8E5M2((byte)b), b => (b & 0x80) << 24 | 0x7FC0_0000 | (b & 0x3) << 21);
    private static readonly float[] E4M3FNUZ = Build(b => (float)new Float8E4M3FNUZ((byte)b), _ => 0x7F80_0001);
    private static readonly float[] E5M2FNUZ = Build(b => (float)new Float8E5M2FNUZ((byte)b), _ => 0x7F80_0001);
    private static readonly float[] E8M0FNU = Build(b => (float)new Float8E8M0FNU((byte)b), _ => 0x7F80_0001);

    public static bool Has(DType dtype) => Table(dtype) is not null;

    public static float ToSingle(DType dtype, byte bits) => Table(dtype)![bits];

    public static void ToSingle(DType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var table = Table(dtype)!;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = table[source[i]];
        }
    }

    private static float[]? Table(DType dtype) => dtype switch
    {
        DType.Float8E4M3FN => E4M3FN,
        DType.Float8E5M2 => E5M2,
        DType.Float8E4M3FNUZ => E4M3FNUZ,
        DType.Float8E5M2FNUZ => E5M2FNUZ,
        DType.Float8E8M0FNU => E8M0FNU,
        _ => null,
    };

    private static float[] Build(Func<int, float> value, Func<int, int> nanBits)
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++)
        {
            float v = value(b);
            table[b] = float.IsNaN(v) ? BitConverter.Int32BitsToSingle(nanBits(b)) : v;
        }
        return table;
    }
}
