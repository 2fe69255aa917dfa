using System.Runtime.InteropServices;

namespace StateDict.LoadBench;

/// <summary>
/// Everything the harness asks of the runtime's loading API, in one place: the options of each mode, the eager load,
/// and reading a tensor's bytes whatever its dtype.
/// </summary>
internal static class Runtime
{
    /// <summary>The default copy mode (<see cref="TensorMemory.Auto"/>: the huge-page arena for 16 MiB or more, managed arrays below).</summary>
    public static LoadOptions Copy() => new();

    /// <summary>Copy into managed arrays (4 KiB pages of the GC heap): for comparison with the arena.</summary>
    public static LoadOptions CopyManaged() => new() { Memory = TensorMemory.Managed };

    /// <summary>Zero-copy views of the memory-mapped file.</summary>
    public static LoadOptions MemoryMapped() => new() { Memory = TensorMemory.MemoryMapped };

    /// <summary>Reads every storage now, in parallel (a no-op for mapped storages).</summary>
    public static void Preload(Checkpoint checkpoint) => checkpoint.Preload();

    /// <summary>Reads a tensor and touches its bytes: one byte per 4 KiB page, or every byte.</summary>
    public static ulong Touch(Checkpoint checkpoint, TensorInfo tensor, bool everyByte) => tensor.DType switch
    {
        DType.Float32 => Touch(checkpoint.Read<float>(tensor).Span, everyByte),
        DType.Float64 => Touch(checkpoint.Read<double>(tensor).Span, everyByte),
        DType.Float16 => Touch(checkpoint.Read<Half>(tensor).Span, everyByte),
        DType.BFloat16 => Touch(checkpoint.Read<BFloat16>(tensor).Span, everyByte),
        DType.Int64 => Touch(checkpoint.Read<long>(tensor).Span, everyByte),
        DType.Int32 => Touch(checkpoint.Read<int>(tensor).Span, everyByte),
        DType.Int16 => Touch(checkpoint.Read<short>(tensor).Span, everyByte),
        DType.Int8 => Touch(checkpoint.Read<sbyte>(tensor).Span, everyByte),
        DType.UInt8 => Touch(checkpoint.Read<byte>(tensor).Span, everyByte),
        DType.Bool => Touch(checkpoint.Read<bool>(tensor).Span, everyByte),
        DType.Complex64 => Touch(checkpoint.Read<Complex64>(tensor).Span, everyByte),
        DType.Complex128 => Touch(checkpoint.Read<System.Numerics.Complex>(tensor).Span, everyByte),
        DType.UInt16 => Touch(checkpoint.Read<ushort>(tensor).Span, everyByte),
        DType.UInt32 => Touch(checkpoint.Read<uint>(tensor).Span, everyByte),
        DType.UInt64 => Touch(checkpoint.Read<ulong>(tensor).Span, everyByte),
        DType.Float8E4M3FN => Touch(checkpoint.Read<Float8E4M3FN>(tensor).Span, everyByte),
        DType.Float8E5M2 => Touch(checkpoint.Read<Float8E5M2>(tensor).Span, everyByte),
        _ => throw new NotSupportedException(tensor.DType.ToString()),
    };

    /// <summary>Reads the first <paramref name="rows"/> of dim 0 of a tensor and touches its pages; returns the slice's bytes.</summary>
    public static long TouchSlice(Checkpoint checkpoint, TensorInfo tensor, int rows) => tensor.DType switch
    {
        DType.Float32 => TouchSlice(checkpoint.ReadSlice<float>(tensor.Key, ..rows)),
        DType.BFloat16 => TouchSlice(checkpoint.ReadSlice<BFloat16>(tensor.Key, ..rows)),
        DType.Float16 => TouchSlice(checkpoint.ReadSlice<Half>(tensor.Key, ..rows)),
        DType.Int64 => TouchSlice(checkpoint.ReadSlice<long>(tensor.Key, ..rows)),
        _ => throw new NotSupportedException(tensor.DType.ToString()),
    };

    /// <summary>
    /// Copies the first <paramref name="rows"/> of dim 0 of a tensor into the start of <paramref name="buffer"/> and touches
    /// its pages; returns the slice's bytes.
    /// </summary>
    public static long CopySlice(Checkpoint checkpoint, TensorInfo tensor, int rows, byte[] buffer) => tensor.DType switch
    {
        DType.Float32 => CopySlice<float>(checkpoint, tensor.Key, rows, buffer),
        DType.BFloat16 => CopySlice<BFloat16>(checkpoint, tensor.Key, rows, buffer),
        DType.Float16 => CopySlice<Half>(checkpoint, tensor.Key, rows, buffer),
        DType.Int64 => CopySlice<long>(checkpoint, tensor.Key, rows, buffer),
        _ => throw new NotSupportedException(tensor.DType.ToString()),
    };

    /// <summary>A buffer of <paramref name="bytes"/> whose every page is already backed (what a reused buffer is).</summary>
    public static byte[] TouchedBuffer(long bytes)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        buffer.AsSpan().Fill(1);
        return buffer;
    }

    private static long CopySlice<T>(Checkpoint checkpoint, string key, int rows, byte[] buffer) where T : unmanaged
    {
        int written = checkpoint.CopySliceTo(key, MemoryMarshal.Cast<byte, T>(buffer.AsSpan()), ..rows);
        var bytes = buffer.AsSpan(0, written * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        Memory.TouchPages(bytes);
        return bytes.Length;
    }

    private static long TouchSlice<T>(TensorView<T> slice) where T : unmanaged
    {
        Memory.TouchPages(MemoryMarshal.AsBytes(slice.Span));
        return MemoryMarshal.AsBytes(slice.Span).Length;
    }

    private static ulong Touch<T>(ReadOnlySpan<T> span, bool everyByte) where T : unmanaged =>
        everyByte ? Memory.SumAll(MemoryMarshal.AsBytes(span)) : Memory.TouchPages(MemoryMarshal.AsBytes(span));
}
