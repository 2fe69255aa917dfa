using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StateDict.Reading;

/// <summary>
/// Element conversions for <see cref="Checkpoint.ReadAs{T}(string)"/>, bit for bit what PyTorch's <c>tensor.to(dtype)</c>
/// returns on the CPU (checked against torch 1.13 on every float16 and bfloat16 bit pattern and on random float32,
/// float64 and integer inputs, <c>tests/fixtures/conversion</c>):
/// <list type="bullet">
/// <item>Narrowing rounds to nearest, ties to even; overflow gives ±inf; subnormals are kept.</item>
/// <item>float64 → float16/bfloat16 rounds twice, through float32, as PyTorch does.</item>
/// <item>NaN: widening keeps the payload and sets the quiet bit (bfloat16 → float32 is a plain 16-bit shift and keeps
/// signalling NaNs, as PyTorch's does); to float16 every NaN becomes 0x7E00 with its sign; to bfloat16 from
/// float32/float64 it becomes 0xFFFF (PyTorch's vectorised kernel; its scalar tail loop for float64 writes 0x7FC0 for
/// the last few elements, a NaN either way), from float16 0x7FC0.</item>
/// <item>Integers convert to float32 with one rounding (to nearest, ties to even), to float16/bfloat16 through float32.</item>
/// </list>
/// </summary>
internal static class FloatConversion
{
    private const ushort HalfNaN = 0x7E00;
    private const ushort BFloat16NaNFromSingle = 0xFFFF;
    private const ushort BFloat16NaNFromHalf = 0x7FC0;

    /// <summary>Whether a tensor of <paramref name="from"/> can be read as <paramref name="to"/>.</summary>
    public static bool CanConvert(DType from, DType to) => IsTarget(to) && (IsFloating(from) || IsInteger(from));

    /// <summary>The dtypes <see cref="Checkpoint.ReadAs{T}(string)"/> converts to.</summary>
    public static bool IsTarget(DType dtype) => dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    public static bool IsFloating(DType dtype) =>
        dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16 || Float8Tables.Has(dtype);

    public static bool IsInteger(DType dtype) =>
        dtype is DType.Int64 or DType.Int32 or DType.Int16 or DType.Int8 or DType.UInt8 or DType.UInt16 or DType.UInt32 or DType.UInt64;

    /// <summary>Converts <paramref name="source"/> (elements of <paramref name="from"/>) into <paramref name="destination"/> (of <paramref name="to"/>).</summary>
    public static void Convert(DType from, ReadOnlySpan<byte> source, DType to, Span<byte> destination)
    {
        switch (to)
        {
            case DType.Float32:
                ToSingle(from, source, MemoryMarshal.Cast<byte, float>(destination));
                break;
            case DType.Float64:
                ToDouble(from, source, MemoryMarshal.Cast<byte, double>(destination));
                break;
            case DType.Float16:
                ToHalf(from, source, MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            case DType.BFloat16:
                ToBFloat16(from, source, MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(to), to, "not a conversion target");
        }
    }

    private static void ToSingle(DType from, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (from)
        {
            case DType.BFloat16:
                BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination);
                return;
            case DType.Float16:
                HalfToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                return;
            case DType.Float32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                return;
            case var f8 when Float8Tables.Has(f8):
                Float8Tables.ToSingle(f8, source, destination);
                return;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Single(from, source, i);
        }
    }

    private static void ToDouble(DType from, ReadOnlySpan<byte> source, Span<double> destination)
    {
        switch (from)
        {
            case DType.Float64:
                MemoryMarshal.Cast<byte, double>(source).CopyTo(destination);
                return;
            case DType.Float32:
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, float>(source), destination); // widening: exact
                return;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Element(from, source, i);
        }
    }

    private static void ToHalf(DType from, ReadOnlySpan<byte> source, Span<ushort> destination)
    {
        if (from == DType.Float16)
        {
            MemoryMarshal.Cast<byte, ushort>(source).CopyTo(destination);
            return;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = HalfBits(from == DType.Float64 ? (float)Element(from, source, i) : Single(from, source, i));
        }
    }

    private static void ToBFloat16(DType from, ReadOnlySpan<byte> source, Span<ushort> destination)
    {
        if (from == DType.BFloat16)
        {
            MemoryMarshal.Cast<byte, ushort>(source).CopyTo(destination);
            return;
        }
        ushort nan = from is DType.Float32 or DType.Float64 ? BFloat16NaNFromSingle : BFloat16NaNFromHalf;
        if (from == DType.Float32)
        {
            SingleToBFloat16(MemoryMarshal.Cast<byte, float>(source), destination, nan);
            return;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = BFloat16Bits(from == DType.Float64 ? (float)Element(from, source, i) : Single(from, source, i), nan);
        }
    }

    /// <summary>Element <paramref name="i"/> as float32, exactly (integers rounded once).</summary>
    private static float Single(DType from, ReadOnlySpan<byte> source, int i) => from switch
    {
        DType.Float32 => MemoryMarshal.Cast<byte, float>(source)[i],
        DType.Float16 => QuietSingle((float)MemoryMarshal.Cast<byte, Half>(source)[i]),
        DType.BFloat16 => BitConverter.Int32BitsToSingle(MemoryMarshal.Cast<byte, ushort>(source)[i] << 16),
        var f8 when Float8Tables.Has(f8) => Float8Tables.ToSingle(f8, source[i]),
        DType.Int64 => MemoryMarshal.Cast<byte, long>(source)[i],
        DType.UInt64 => MemoryMarshal.Cast<byte, ulong>(source)[i],
        DType.Int32 => MemoryMarshal.Cast<byte, int>(source)[i],
        DType.UInt32 => MemoryMarshal.Cast<byte, uint>(source)[i],
        _ => (float)Element(from, source, i), // 8- and 16-bit integers are exact in float32
    };

    /// <summary>Element <paramref name="i"/> as float64, exactly (64-bit integers rounded once).</summary>
    private static double Element(DType from, ReadOnlySpan<byte> source, int i) => from switch
    {
        DType.Float64 => MemoryMarshal.Cast<byte, double>(source)[i],
        DType.Int64 => MemoryMarshal.Cast<byte, long>(source)[i],
        DType.UInt64 => MemoryMarshal.Cast<byte, ulong>(source)[i],
        DType.Int32 => MemoryMarshal.Cast<byte, int>(source)[i],
        DType.UInt32 => MemoryMarshal.Cast<byte, uint>(source)[i],
        DType.Int16 => MemoryMarshal.Cast<byte, short>(source)[i],
        DType.UInt16 => MemoryMarshal.Cast<byte, ushort>(source)[i],
        DType.Int8 => (sbyte)source[i],
        DType.UInt8 => source[i],
        _ => Single(from, source, i), // floating dtypes narrower than float64 widen exactly (the quiet bit is set)
    };

    /// <summary>float16 → float32 like PyTorch (the F16C instruction): exact, with signalling NaNs quieted.</summary>
    private static void HalfToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        TensorPrimitives.ConvertToSingle(source, destination);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = QuietSingle(destination[i]);
        }
    }

    private static float QuietSingle(float value) =>
        float.IsNaN(value) ? BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) | 0x0040_0000) : value;

    /// <summary>bfloat16 → float32: each 16-bit pattern becomes the top half of a float32 (exact; NaNs untouched).</summary>
    private static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var output = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort input = ref MemoryMarshal.GetReference(source);
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var bits = Vector256.LoadUnsafe(ref input, (nuint)i);
                var (lower, upper) = Vector256.Widen(bits);
                (lower << 16).CopyTo(output[i..]);
                (upper << 16).CopyTo(output[(i + Vector256<uint>.Count)..]);
            }
        }
        for (; i < source.Length; i++)
        {
            output[i] = (uint)source[i] << 16;
        }
    }

    /// <summary>float32 → bfloat16, nearest-even, NaN → <paramref name="nan"/>.</summary>
    private static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination, ushort nan)
    {
        var input = MemoryMarshal.Cast<float, uint>(source);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1u);
            var bias = Vector256.Create(0x7FFFu);
            var nanBits = Vector256.Create((uint)nan);
            for (; i <= input.Length - (2 * Vector256<uint>.Count); i += 2 * Vector256<uint>.Count)
            {
                var low = Round(Vector256.Create(input.Slice(i, Vector256<uint>.Count)));
                var high = Round(Vector256.Create(input.Slice(i + Vector256<uint>.Count, Vector256<uint>.Count)));
                Vector256.Narrow(low, high).CopyTo(destination[i..]);
            }

            Vector256<uint> Round(Vector256<uint> bits)
            {
                var rounded = (bits + bias + ((bits >> 16) & one)) >> 16;
                var isNaN = Vector256.GreaterThan(bits & Vector256.Create(0x7FFF_FFFFu), Vector256.Create(0x7F80_0000u));
                return Vector256.ConditionalSelect(isNaN, nanBits, rounded);
            }
        }
        for (; i < input.Length; i++)
        {
            destination[i] = BFloat16Bits(source[i], nan);
        }
    }

    private static ushort BFloat16Bits(float value, ushort nan)
    {
        if (float.IsNaN(value))
        {
            return nan;
        }
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    private static ushort HalfBits(float value)
    {
        if (float.IsNaN(value))
        {
            return (ushort)(HalfNaN | (BitConverter.SingleToInt32Bits(value) < 0 ? 0x8000 : 0));
        }
        return BitConverter.HalfToUInt16Bits((Half)value);
    }
}
