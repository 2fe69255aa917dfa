using System.Runtime.InteropServices;

namespace StateDict;

/// <summary>
/// Brain floating point (<c>torch.bfloat16</c>): the top 16 bits of an IEEE <see cref="float"/>.
/// .NET has no such type; this one stores the raw bits exactly as PyTorch wrote them.
/// </summary>
/// <example><code>float x = (float)view.Span[0];</code></example>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly record struct BFloat16(ushort Bits)
{
    /// <summary>The value widened to <see cref="float"/> (exact: every bfloat16 is a float).</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.Int32BitsToSingle(value.Bits << 16);

    /// <summary>Rounds a <see cref="float"/> to the nearest bfloat16 (ties to even), as PyTorch does.</summary>
    public static explicit operator BFloat16(float value)
    {
        if (float.IsNaN(value))
        {
            return new BFloat16(0x7FC0);
        }
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
