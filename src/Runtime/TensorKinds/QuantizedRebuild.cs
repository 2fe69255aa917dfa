using System.Collections.Immutable;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Reads <c>_rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks)</c>:
/// the storage is a <c>torch.QInt8Storage</c> (QUInt8, QInt32, QUInt4x2, QUInt2x4), quantizer_params
/// <c>(torch.per_tensor_affine, scale, zero_point)</c> or <c>(torch.per_channel_affine[_float_qparams], scales, zero_points, axis)</c>.
/// torch 1.13 pickles float-qparams tensors under <c>per_channel_affine</c> with float32 zero points; the zero points'
/// dtype tells them apart, as it does for torch's kernel.
/// </summary>
internal sealed class QuantizedRebuild(TensorRebuild rebuild)
{
    public static bool IsQuantized(object value) => value is PyCall { Global.FullName: AllowList.RebuildQTensor };

    /// <summary>The quantized tensor and its per-channel components (scales, zero points), if any.</summary>
    public QuantizedTensorInfo Build(string key, PyCall call)
    {
        var args = call.Args.Items;
        if (args.Count != 7)
        {
            throw rebuild.Fail(call, key, $"_rebuild_qtensor takes 7 arguments, got {args.Count}");
        }
        var slice = rebuild.Storage(call, key, args[0]);
        var qdtype = slice.Root.Quantized ?? throw rebuild.Fail(call, key, $"storage '{slice.Root.Key}' is not a quantized storage");
        var shape = rebuild.Dimensions(call, key, args[2], "size");
        var data = qdtype.BitWidth() >= 8 ? rebuild.View(call, key, slice, args[1], args[2], args[3], isParameter: false) : Packed(call, key, slice, args, shape);
        data = data.AsQuantized(qdtype);
        if (args[4] is not PyTuple { Items: [PyGlobal scheme, ..] parameters })
        {
            throw rebuild.Fail(call, key, "quantizer_params is not a (qscheme, ...) tuple");
        }
        switch (scheme.FullName, parameters)
        {
            case ("torch.per_tensor_affine", [_, double or long, long zeroPoint]):
                return new QuantizedTensorInfo(key, qdtype, QScheme.PerTensorAffine, shape, data, Convert.ToDouble(parameters[1], System.Globalization.CultureInfo.InvariantCulture), zeroPoint, null, null, 0);
            case ("torch.per_channel_affine" or "torch.per_channel_affine_float_qparams", [_, var scalesArg, var zeroPointsArg, long axis]):
                return PerChannel(key, call, qdtype, shape, data, scalesArg, zeroPointsArg, axis);
            default:
                throw rebuild.Unsupported(call, $"quantized tensor with quantizer params ({scheme.FullName}, {parameters.Count - 1} values) at '{key}'");
        }
    }

    private QuantizedTensorInfo PerChannel(string key, PyCall call, QuantizedDType qdtype, ImmutableArray<long> shape, TensorInfo data, object scalesArg, object zeroPointsArg, long axis)
    {
        if (!TensorRebuild.IsTensor(scalesArg) || !TensorRebuild.IsTensor(zeroPointsArg))
        {
            throw rebuild.Unsupported(call, $"per-channel quantized tensor at '{key}' whose scales or zero points are not tensors (lists)");
        }
        if (axis < 0 || axis >= shape.Length)
        {
            throw rebuild.Fail(call, key, $"axis {axis} is outside the {shape.Length} dimensions");
        }
        var scales = rebuild.Build($"{key}.scales", (PyCall)scalesArg).AsComponent(key, "scales", TensorLayout.Strided);
        var zeroPoints = rebuild.Build($"{key}.zero_points", (PyCall)zeroPointsArg).AsComponent(key, "zero_points", TensorLayout.Strided);
        bool floatParams = zeroPoints.DType == DType.Float32;
        bool fits = scales.Shape.Length == 1 && zeroPoints.Shape.Length == 1 && scales.Shape[0] == shape[(int)axis] && zeroPoints.Shape[0] == shape[(int)axis]
            && (floatParams ? scales.DType == DType.Float32 : scales.DType == DType.Float64 && zeroPoints.DType == DType.Int64);
        if (!fits)
        {
            throw rebuild.Fail(call, key,
                $"per-channel scales {scales.DType.Name()} [{string.Join(", ", scales.Shape)}] and zero points {zeroPoints.DType.Name()} [{string.Join(", ", zeroPoints.Shape)}] " +
                $"do not fit axis {axis} of size [{string.Join(", ", shape)}] (float64 scales with int64 zero points, or both float32)");
        }
        var scheme = floatParams ? QScheme.PerChannelAffineFloatQParams : QScheme.PerChannelAffine;
        return new QuantizedTensorInfo(key, qdtype, scheme, shape, data, 0, 0, scales, zeroPoints, (int)axis);
    }

    /// <summary>quint4x2 / quint2x4: contiguous from offset 0, packed over the flattened tensor, low bits first.</summary>
    private TensorInfo Packed(PyCall call, string key, StorageSlice slice, ArraySegment<object> args, ImmutableArray<long> shape)
    {
        var strides = rebuild.Dimensions(call, key, args[3], "stride");
        if (args[1] is not 0L || !TensorInfo.IsRowMajor(shape, strides) || strides.Length != shape.Length)
        {
            throw rebuild.Unsupported(call, $"a {slice.Root.Quantized!.Value.Name()} view with an offset or non-contiguous strides at '{key}'");
        }
        int perByte = 8 / slice.Root.Quantized!.Value.BitWidth();
        long count = 1;
        foreach (long d in shape)
        {
            count = d == 0 ? 0 : count <= long.MaxValue / d ? count * d : throw rebuild.Fail(call, key, "size overflows a 64-bit element count");
        }
        long bytes = (count + perByte - 1) / perByte;
        return rebuild.View(call, key, slice, 0L, new PyTuple([bytes]), new PyTuple([1L]), isParameter: false);
    }
}
