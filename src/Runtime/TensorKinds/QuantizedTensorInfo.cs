using System.Collections.Immutable;

namespace StateDict;

/// <summary>
/// A quantized tensor of a checkpoint (<c>torch.qint8</c>, <c>quint8</c>, <c>qint32</c>, <c>quint4x2</c>, <c>quint2x4</c>):
/// its logical shape, quantization parameters and integer representation <see cref="Data"/>, which is listed in
/// <see cref="Checkpoint.Tensors"/> under the tensor's own key (int8, uint8 or int32; for 4x2 and 2x4 the packed bytes,
/// a uint8 vector of <c>ceil(numel · bits / 8)</c>, like <c>int_repr()</c>). Per-channel scales and zero points are
/// listed as <c>KEY.scales</c> and <c>KEY.zero_points</c>. Read it with <see cref="Checkpoint.ReadQuantized(string)"/>.
/// </summary>
/// <example>
/// <code>
/// var q = ckpt.ReadQuantized("fc._packed_params._packed_params.0");
/// TensorView&lt;sbyte&gt; ints = q.IntRepr&lt;sbyte&gt;();
/// TensorView&lt;float&gt; w = q.Dequantize();          // bit-exact with torch.dequantize
/// </code>
/// </example>
public sealed class QuantizedTensorInfo
{
    internal QuantizedTensorInfo(string key, QuantizedDType dtype, QScheme scheme, ImmutableArray<long> shape,
        TensorInfo data, double scale, long zeroPoint, TensorInfo? scales, TensorInfo? zeroPoints, int axis)
    {
        Key = key;
        DType = dtype;
        Scheme = scheme;
        Shape = shape;
        Data = data;
        Scale = scale;
        ZeroPoint = zeroPoint;
        Scales = scales;
        ZeroPoints = zeroPoints;
        Axis = axis;
    }

    /// <summary>The tensor's key (also the key of <see cref="Data"/>).</summary>
    public string Key { get; }

    /// <summary>The quantized element type.</summary>
    public QuantizedDType DType { get; }

    /// <summary>The quantization scheme.</summary>
    public QScheme Scheme { get; }

    /// <summary>The logical shape (for 4x2 and 2x4, in unpacked elements).</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Number of logical elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The integer representation as listed in <see cref="Checkpoint.Tensors"/>.</summary>
    public TensorInfo Data { get; }

    /// <summary>Per-tensor: the scale (a double, as torch keeps it; dequantization rounds it to float).</summary>
    public double Scale { get; }

    /// <summary>Per-tensor: the zero point.</summary>
    public long ZeroPoint { get; }

    /// <summary>Per-channel: the scales, one per index along <see cref="Axis"/> (float64, or float32 for float qparams).</summary>
    public TensorInfo? Scales { get; }

    /// <summary>Per-channel: the zero points (int64, or float32 for float qparams).</summary>
    public TensorInfo? ZeroPoints { get; }

    /// <summary>Per-channel: the channel dimension.</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {DType.Name()} {Scheme.Name()} [{string.Join(", ", Shape)}]";
}
