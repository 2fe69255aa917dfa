using System.Numerics;
using System.Runtime.InteropServices;

namespace StateDict;

/// <summary>
/// A single-precision complex number (<c>torch.complex64</c>): real then imaginary part, interleaved as PyTorch stores them.
/// </summary>
/// <example><code>Complex z = view.Span[0];   // widens to System.Numerics.Complex</code></example>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Complex64(float Real, float Imaginary)
{
    /// <summary>Widens to <see cref="Complex"/> (exact).</summary>
    public static implicit operator Complex(Complex64 value) => new(value.Real, value.Imaginary);

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({Real}, {Imaginary})");
}
