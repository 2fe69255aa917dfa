namespace StateDict;

/// <summary>
/// A quantized tensor read from a checkpoint: its integer representation and quantization parameters.
/// </summary>
/// <example>
/// <code>
/// QuantizedTensor q = ckpt.ReadQuantized("conv.weight");           // qint8, per_channel_affine, axis 0
/// TensorView&lt;sbyte&gt; ints = q.IntRepr&lt;sbyte&gt;();
/// TensorView&lt;float&gt; w = q.Dequantize();
/// </code>
/// </example>
public sealed class QuantizedTensor
{
    private readonly Checkpoint _checkpoint;

    internal QuantizedTensor(QuantizedTensorInfo info, Checkpoint checkpoint)
    {
        Info = info;
        _checkpoint = checkpoint;
    }

    /// <summary>What the checkpoint says about the tensor.</summary>
    public QuantizedTensorInfo Info { get; }

    /// <summary>
    /// The integer representation, like torch's <c>int_repr()</c>: <see cref="sbyte"/> for qint8, <see cref="byte"/> for
    /// quint8, <see cref="int"/> for qint32, and for quint4x2 / quint2x4 the packed bytes (<see cref="byte"/>, element
    /// <c>i</c> in bits <c>bits·(i % per_byte)</c> upwards of byte <c>i / per_byte</c>).
    /// </summary>
    /// <exception cref="TensorTypeMismatchException"><typeparamref name="T"/> is not the representation's element type.</exception>
    public TensorView<T> IntRepr<T>() where T : unmanaged => _checkpoint.Read<T>(Info.Data);

    /// <summary>
    /// The float32 values, bit-exact with <c>torch.dequantize</c> on CPU: per tensor <c>((float)q - (float)zero_point) * (float)scale</c>
    /// in float; per channel (float64 scales) <c>(float)(((float)q - (float)zero_point) * (double)scale)</c>; float qparams
    /// <c>((float)q - zero_point) * scale</c> in float.
    /// </summary>
    public TensorView<float> Dequantize()
    {
        int count = DerivedTensor.Count(Info.Key, Info.Shape);
        var q = Unpacked(count);
        var result = new float[count];
        switch (Info.Scheme)
        {
            case QScheme.PerTensorAffine:
                float scale = (float)Info.Scale;
                float zeroPoint = Info.ZeroPoint;
                for (int i = 0; i < count; i++)
                {
                    result[i] = (q[i] - zeroPoint) * scale;
                }
                break;
            default:
                PerChannel(q, result);
                break;
        }
        return new TensorView<float>(DerivedTensor.Info(Info.Key, DType.Float32, Info.Shape, count), result);
    }

    private void PerChannel(float[] q, float[] result)
    {
        long channels = Info.Shape[Info.Axis];
        long inner = 1;
        for (int d = Info.Axis + 1; d < Info.Shape.Length; d++)
        {
            inner *= Info.Shape[d];
        }
        bool floatParams = Info.Scheme == QScheme.PerChannelAffineFloatQParams;
        var floatScales = floatParams ? _checkpoint.Read<float>(Info.Scales!).ToArray() : null;
        var doubleScales = floatParams ? null : _checkpoint.Read<double>(Info.Scales!).ToArray();
        var zeroPoints = floatParams ? _checkpoint.Read<float>(Info.ZeroPoints!).ToArray()
            : Array.ConvertAll(_checkpoint.Read<long>(Info.ZeroPoints!).ToArray(), z => (float)z);
        for (int i = 0; i < q.Length; i++)
        {
            long c = i / inner % channels;
            float shifted = q[i] - zeroPoints[c];
            result[i] = floatParams ? shifted * floatScales![c] : (float)(shifted * doubleScales![c]);
        }
    }

    /// <summary>Each element's integer value as float (the kernel's <c>static_cast&lt;float&gt;(q)</c>), row-major.</summary>
    private float[] Unpacked(int count)
    {
        var values = new float[count];
        switch (Info.DType)
        {
            case QuantizedDType.QInt8:
                Widen(IntRepr<sbyte>().Span, values);
                break;
            case QuantizedDType.QUInt8:
                Widen(IntRepr<byte>().Span, values);
                break;
            case QuantizedDType.QInt32:
                var ints = IntRepr<int>().Span;
                for (int i = 0; i < count; i++)
                {
                    values[i] = ints[i];
                }
                break;
            default:
                var packed = IntRepr<byte>().Span;
                int bits = Info.DType.BitWidth();
                int perByte = 8 / bits;
                int mask = (1 << bits) - 1;
                for (int i = 0; i < count; i++)
                {
                    values[i] = (packed[i / perByte] >> (i % perByte * bits)) & mask;
                }
                break;
        }
        return values;
    }

    private static void Widen<T>(ReadOnlySpan<T> source, float[] target) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = float.CreateTruncating(source[i]);
        }
    }
}
