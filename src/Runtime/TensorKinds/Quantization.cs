#pragma warning disable CA1720 // The members mirror PyTorch's dtype names (torch.qint8, torch.quint8, ...).
namespace StateDict;

/// <summary>A quantized element type as PyTorch names it.</summary>
public enum QuantizedDType
{
    /// <summary><c>torch.qint8</c>: integer representation <see cref="sbyte"/>.</summary>
    QInt8,
    /// <summary><c>torch.quint8</c>: integer representation <see cref="byte"/>.</summary>
    QUInt8,
    /// <summary><c>torch.qint32</c>: integer representation <see cref="int"/>.</summary>
    QInt32,
    /// <summary><c>torch.quint4x2</c>: two unsigned 4-bit values per byte, element <c>i</c> in bits <c>4·(i % 2)</c> of byte <c>i / 2</c>.</summary>
    QUInt4x2,
    /// <summary><c>torch.quint2x4</c>: four unsigned 2-bit values per byte, element <c>i</c> in bits <c>2·(i % 4)</c> of byte <c>i / 4</c>.</summary>
    QUInt2x4,
}

/// <summary>How a quantized tensor maps integers to reals (<c>torch.qscheme</c>).</summary>
public enum QScheme
{
    /// <summary><c>torch.per_tensor_affine</c>: <c>(q - zero_point) * scale</c> with one scale and zero point.</summary>
    PerTensorAffine,
    /// <summary><c>torch.per_channel_affine</c>: a double scale and an int64 zero point per index along <c>axis</c>.</summary>
    PerChannelAffine,
    /// <summary><c>torch.per_channel_affine_float_qparams</c>: a float scale and a float zero point per index along <c>axis</c>.</summary>
    PerChannelAffineFloatQParams,
}

/// <summary>PyTorch's names and storage facts of <see cref="QuantizedDType"/> and <see cref="QScheme"/>.</summary>
public static class QuantizationNames
{
    /// <summary><c>qint8</c>, <c>quint8</c>, <c>qint32</c>, <c>quint4x2</c>, <c>quint2x4</c>.</summary>
    public static string Name(this QuantizedDType dtype) => dtype switch
    {
        QuantizedDType.QInt8 => "qint8",
        QuantizedDType.QUInt8 => "quint8",
        QuantizedDType.QInt32 => "qint32",
        QuantizedDType.QUInt4x2 => "quint4x2",
        QuantizedDType.QUInt2x4 => "quint2x4",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary><c>per_tensor_affine</c>, <c>per_channel_affine</c>, <c>per_channel_affine_float_qparams</c>.</summary>
    public static string Name(this QScheme scheme) => scheme switch
    {
        QScheme.PerTensorAffine => "per_tensor_affine",
        QScheme.PerChannelAffine => "per_channel_affine",
        QScheme.PerChannelAffineFloatQParams => "per_channel_affine_float_qparams",
        _ => throw new ArgumentOutOfRangeException(nameof(scheme)),
    };

    /// <summary>Bits per element: 8, 32, 4 or 2.</summary>
    public static int BitWidth(this QuantizedDType dtype) => dtype switch
    {
        QuantizedDType.QInt32 => 32,
        QuantizedDType.QUInt4x2 => 4,
        QuantizedDType.QUInt2x4 => 2,
        _ => 8,
    };

    /// <summary>The dtype of the integer representation (<c>int_repr()</c>): int8, uint8 (also the packed bytes of 4x2/2x4) or int32.</summary>
    public static DType ReprDType(this QuantizedDType dtype) => dtype switch
    {
        QuantizedDType.QInt8 => DType.Int8,
        QuantizedDType.QInt32 => DType.Int32,
        _ => DType.UInt8,
    };

    /// <summary>The storage class torch pickles for the dtype (<c>torch.QInt8Storage</c>, ...).</summary>
    public static string StorageClass(this QuantizedDType dtype) => dtype switch
    {
        QuantizedDType.QInt8 => "torch.QInt8Storage",
        QuantizedDType.QUInt8 => "torch.QUInt8Storage",
        QuantizedDType.QInt32 => "torch.QInt32Storage",
        QuantizedDType.QUInt4x2 => "torch.QUInt4x2Storage",
        QuantizedDType.QUInt2x4 => "torch.QUInt2x4Storage",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static readonly QuantizedDType[] AllQuantized = Enum.GetValues<QuantizedDType>();

    /// <summary>The quantized dtype of a storage class name, if it is one.</summary>
    public static bool TryFromStorageClass(string fullName, out QuantizedDType dtype)
    {
        // Asked once per storage (20,000 times for a 20,000-tensor file): a static array, not Enum.GetValues's fresh one.
        foreach (var candidate in AllQuantized)
        {
            if (candidate.StorageClass() == fullName)
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }
}
