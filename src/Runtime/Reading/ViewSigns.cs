using System.Numerics;
using System.Runtime.InteropServices;

namespace StateDict.Reading;

/// <summary>
/// Applies a conjugate or negative view bit (torch ≥ 2.0's <c>{'conj': True}</c> / <c>{'neg': True}</c> tensor metadata)
/// to elements read from storage, the way <c>resolve_conj()</c> / <c>resolve_neg()</c> materialize them: conjugation
/// negates imaginary parts, negation negates every value. Floating values are negated by flipping the sign bit (IEEE
/// negation: NaN payloads kept, 0 becomes -0), integers by two's-complement negation.
/// </summary>
internal static class ViewSigns
{
    /// <summary>Whether <paramref name="dtype"/> can carry the bit: conj is defined for complex dtypes, neg for signed numbers.</summary>
    public static bool Supports(DType dtype, bool conjugate, bool negative) =>
        (!conjugate || IsComplex(dtype)) && (!negative || IsComplex(dtype) || dtype is DType.Float32 or DType.Float64 or DType.Float16
            or DType.BFloat16 or DType.Int64 or DType.Int32 or DType.Int16 or DType.Int8);

    public static void Apply<T>(Span<T> elements, bool conjugate, bool negative) where T : unmanaged
    {
        if (!conjugate && !negative)
        {
            return;
        }
        // A conjugated negative view negates the real parts only; each complex is two floats (re, im).
        bool flipReal = negative;
        bool flipImaginary = negative ^ conjugate;
        var bytes = MemoryMarshal.AsBytes(elements);
        if (typeof(T) == typeof(Complex32))
        {
            FlipPairs(MemoryMarshal.Cast<byte, ushort>(bytes), flipReal, flipImaginary, (ushort)0x8000);
        }
        else if (typeof(T) == typeof(Complex64))
        {
            FlipPairs(MemoryMarshal.Cast<byte, uint>(bytes), flipReal, flipImaginary, 0x8000_0000u);
        }
        else if (typeof(T) == typeof(Complex))
        {
            FlipPairs(MemoryMarshal.Cast<byte, ulong>(bytes), flipReal, flipImaginary, 0x8000_0000_0000_0000ul);
        }
        else if (!negative)
        {
            return;
        }
        else if (typeof(T) == typeof(float))
        {
            FlipAll(MemoryMarshal.Cast<byte, uint>(bytes), 0x8000_0000u);
        }
        else if (typeof(T) == typeof(double))
        {
            FlipAll(MemoryMarshal.Cast<byte, ulong>(bytes), 0x8000_0000_0000_0000ul);
        }
        else if (typeof(T) == typeof(Half) || typeof(T) == typeof(BFloat16))
        {
            FlipAll(MemoryMarshal.Cast<byte, ushort>(bytes), (ushort)0x8000);
        }
        else if (typeof(T) == typeof(long))
        {
            NegateAll(MemoryMarshal.Cast<byte, long>(bytes));
        }
        else if (typeof(T) == typeof(int))
        {
            NegateAll(MemoryMarshal.Cast<byte, int>(bytes));
        }
        else if (typeof(T) == typeof(short))
        {
            NegateAll(MemoryMarshal.Cast<byte, short>(bytes));
        }
        else if (typeof(T) == typeof(sbyte))
        {
            NegateAll(MemoryMarshal.Cast<byte, sbyte>(bytes));
        }
    }

    private static bool IsComplex(DType dtype) => dtype is DType.Complex32 or DType.Complex64 or DType.Complex128;

    private static void FlipPairs<TBits>(Span<TBits> parts, bool real, bool imaginary, TBits sign) where TBits : unmanaged, IBitwiseOperators<TBits, TBits, TBits>
    {
        for (int i = 0; i < parts.Length; i += 2)
        {
            if (real)
            {
                parts[i] ^= sign;
            }
            if (imaginary)
            {
                parts[i + 1] ^= sign;
            }
        }
    }

    private static void FlipAll<TBits>(Span<TBits> bits, TBits sign) where TBits : unmanaged, IBitwiseOperators<TBits, TBits, TBits>
    {
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] ^= sign;
        }
    }

    private static void NegateAll<TInt>(Span<TInt> values) where TInt : unmanaged, IUnaryNegationOperators<TInt, TInt>
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = unchecked(-values[i]);
        }
    }
}
