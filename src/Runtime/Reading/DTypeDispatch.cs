using System.Numerics;

namespace StateDict.Reading;

/// <summary>A computation generic in the element type, run for a dtype known only at run time.</summary>
internal interface IElementFunc<out TResult>
{
    TResult Invoke<T>() where T : unmanaged;
}

internal static class DTypeDispatch
{
    public static TResult Invoke<TResult>(DType dtype, IElementFunc<TResult> func) => dtype switch
    {
        DType.Float32 => func.Invoke<float>(),
        DType.Float64 => func.Invoke<double>(),
        DType.Float16 => func.Invoke<Half>(),
        DType.BFloat16 => func.Invoke<BFloat16>(),
        DType.Int64 => func.Invoke<long>(),
        DType.Int32 => func.Invoke<int>(),
        DType.Int16 => func.Invoke<short>(),
        DType.Int8 => func.Invoke<sbyte>(),
        DType.UInt8 => func.Invoke<byte>(),
        DType.Bool => func.Invoke<bool>(),
        DType.Complex64 => func.Invoke<Complex64>(),
        DType.Complex128 => func.Invoke<Complex>(),
        DType.UInt16 => func.Invoke<ushort>(),
        DType.UInt32 => func.Invoke<uint>(),
        DType.UInt64 => func.Invoke<ulong>(),
        DType.Float8E4M3FN => func.Invoke<Float8E4M3FN>(),
        DType.Float8E5M2 => func.Invoke<Float8E5M2>(),
        DType.Complex32 => func.Invoke<Complex32>(),
        DType.Float8E4M3FNUZ => func.Invoke<Float8E4M3FNUZ>(),
        DType.Float8E5M2FNUZ => func.Invoke<Float8E5M2FNUZ>(),
        DType.Float8E8M0FNU => func.Invoke<Float8E8M0FNU>(),
        DType.Float4E2M1FNx2 => func.Invoke<Float4E2M1FNx2>(),
        DType.Float6E2M3x4 => func.Invoke<Float6E2M3x4>(),
        DType.Float6E3M2x4 => func.Invoke<Float6E3M2x4>(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };
}
