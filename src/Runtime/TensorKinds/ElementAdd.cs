using System.Numerics;
using System.Runtime.CompilerServices;

namespace StateDict;

/// <summary>
/// <c>a + b</c> in an element type the way torch's CPU kernels add it: Half and BFloat16 through float, rounded back;
/// integers wrapping; bool as "or". What <see cref="SparseTensor{T}.ToDense"/> uses to sum duplicate COO entries.
/// </summary>
internal static class ElementAdd<T> where T : unmanaged
{
    public static readonly Func<T, T, T>? Add = Create();

    private static Func<T, T, T>? Create()
    {
        object? add = typeof(T) switch
        {
            var t when t == typeof(float) => (Func<float, float, float>)((a, b) => a + b),
            var t when t == typeof(double) => (Func<double, double, double>)((a, b) => a + b),
            var t when t == typeof(Half) => (Func<Half, Half, Half>)((a, b) => (Half)((float)a + (float)b)),
            var t when t == typeof(BFloat16) => (Func<BFloat16, BFloat16, BFloat16>)((a, b) => (BFloat16)((float)a + (float)b)),
            var t when t == typeof(long) => (Func<long, long, long>)((a, b) => unchecked(a + b)),
            var t when t == typeof(int) => (Func<int, int, int>)((a, b) => unchecked(a + b)),
            var t when t == typeof(short) => (Func<short, short, short>)((a, b) => unchecked((short)(a + b))),
            var t when t == typeof(sbyte) => (Func<sbyte, sbyte, sbyte>)((a, b) => unchecked((sbyte)(a + b))),
            var t when t == typeof(byte) => (Func<byte, byte, byte>)((a, b) => unchecked((byte)(a + b))),
            var t when t == typeof(bool) => (Func<bool, bool, bool>)((a, b) => a | b),
            var t when t == typeof(Complex64) => (Func<Complex64, Complex64, Complex64>)((a, b) => new Complex64(a.Real + b.Real, a.Imaginary + b.Imaginary)),
            var t when t == typeof(Complex) => (Func<Complex, Complex, Complex>)((a, b) => a + b),
            _ => null,
        };
        return add is null ? null : Unsafe.As<Func<T, T, T>>(add);
    }
}
