using System.Numerics;
using System.Runtime.InteropServices;

namespace StateDict;

/// <summary>
/// A half-precision complex number (<c>torch.complex32</c>, <c>torch.chalf</c>): real then imaginary part, two
/// <see cref="Half"/>s interleaved as PyTorch stores them (4 bytes).
/// </summary>
/// <example><code>Complex z = view.Span[0];   // widens exactly</code></example>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Complex32(Half Real, Half Imaginary)
{
    /// <summary>Widens to <see cref="Complex"/> (exact).</summary>
    public static implicit operator Complex(Complex32 value) => new((double)value.Real, (double)value.Imaginary);

    /// <summary>Widens to <see cref="Complex64"/> (exact).</summary>
    public static implicit operator Complex64(Complex32 value) => new((float)value.Real, (float)value.Imaginary);

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({Real}, {Imaginary})");
}
