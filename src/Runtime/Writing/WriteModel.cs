using System.Collections.Immutable;
using System.Runtime.InteropServices;
using StateDict.Reading;
using StateDict.Torch;

namespace StateDict.Writing;

/// <summary>Where a storage's bytes come from when it is written: little-endian, in element order.</summary>
internal abstract class StorageSource
{
    public abstract DType DType { get; }

    /// <summary>Bytes of the whole storage (a whole number of elements).</summary>
    public abstract long ByteLength { get; }

    public long ElementCount => ByteLength / DType.ElementSize();

    /// <summary>Copies bytes [<paramref name="start"/>, start + destination.Length) of the storage.</summary>
    public abstract void CopyTo(long start, Span<byte> destination);

    /// <summary>Writes bytes [<paramref name="start"/>, start + <paramref name="count"/>) in chunks.</summary>
    public void WriteTo(Stream stream, long start, long count, Action<ReadOnlySpan<byte>>? observe = null)
    {
        const int Chunk = 1 << 22;
        var buffer = new byte[(int)Math.Min(Chunk, Math.Max(count, 1))];
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(buffer.Length, count - done);
            CopyTo(start + done, buffer.AsSpan(0, n));
            stream.Write(buffer, 0, n);
            observe?.Invoke(buffer.AsSpan(0, n));
            done += n;
        }
    }
}

/// <summary>Bytes the caller handed over (copied or borrowed).</summary>
internal sealed class MemoryStorageSource(DType dtype, ReadOnlyMemory<byte> bytes) : StorageSource
{
    public ReadOnlyMemory<byte> Memory { get; } = bytes;

    public override DType DType { get; } = dtype;

    public override long ByteLength => Memory.Length;

    public override void CopyTo(long start, Span<byte> destination) => Memory.Span.Slice(checked((int)start), destination.Length).CopyTo(destination);

    /// <summary>True when both name the very same bytes (tied weights read from one checkpoint share one buffer).</summary>
    public bool SameBytes(ReadOnlyMemory<byte> other) =>
        other.Length == Memory.Length && System.Runtime.CompilerServices.Unsafe.AreSame(
            ref MemoryMarshal.GetReference(Memory.Span), ref MemoryMarshal.GetReference(other.Span));
}

/// <summary>A storage of an open checkpoint, read through its storage cache (byte-swapped already if the file was big-endian).</summary>
internal sealed unsafe class CheckpointStorageSource(Checkpoint checkpoint, StorageRef storage) : StorageSource
{
    public override DType DType { get; } = storage.DType!.Value;

    public override long ByteLength { get; } = storage.ElementCount * storage.DType!.Value.ElementSize();

    public override void CopyTo(long start, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + destination.Length, ByteLength, nameof(destination));
        int size = DType.ElementSize();
        long firstElement = start / size;
        long endElement = (start + destination.Length + size - 1) / size;
        var buffer = checkpoint.StorageBuffer(storage);
        fixed (byte* target = destination)
        {
            DTypeDispatch.Invoke(DType, new Copy(buffer, firstElement, checked((int)(endElement - firstElement)), (int)(start - (firstElement * size)), target, destination.Length));
        }
    }

    private sealed class Copy(StorageBuffer buffer, long element, int count, int skip, byte* target, int length) : IElementFunc<bool>
    {
        public bool Invoke<T>() where T : unmanaged
        {
            MemoryMarshal.AsBytes(buffer.Span<T>(element, count)).Slice(skip, length).CopyTo(new Span<byte>(target, length));
            return true;
        }
    }
}

/// <summary>One tensor to write: a view (offset, shape, strides in elements) of a storage.</summary>
internal sealed class TensorEntry(string key, StorageSource storage, long storageOffset, ImmutableArray<long> shape, ImmutableArray<long> strides, bool isParameter)
{
    public string Key { get; } = key;

    public StorageSource Storage { get; } = storage;

    public long StorageOffset { get; } = storageOffset;

    public ImmutableArray<long> Shape { get; } = shape;

    public ImmutableArray<long> Strides { get; } = strides;

    /// <summary>A meta tensor: dtype, shape and strides only (its storage is empty and never written).</summary>
    public bool IsMeta { get; init; }

    public bool IsParameter { get; } = isParameter;

    public DType DType => Storage.DType;

    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long d in Shape)
            {
                count *= d;
            }
            return count;
        }
    }

    public long ByteLength => ElementCount * DType.ElementSize();

    /// <summary>Row-major strides for the shape, starting at offset 0 and covering the whole storage.</summary>
    public bool IsWholeStorage => StorageOffset == 0 && ByteLength == Storage.ByteLength && IsContiguous;

    public bool IsContiguous => TensorInfo.IsRowMajor(Shape, Strides);

    /// <summary>Same storage, same view, same kind: the same tensor object to torch (tied weights).</summary>
    public bool IsAliasOf(TensorEntry other) =>
        ReferenceEquals(Storage, other.Storage) && StorageOffset == other.StorageOffset && IsParameter == other.IsParameter
        && Shape.SequenceEqual(other.Shape) && Strides.SequenceEqual(other.Strides);

    /// <summary>Writes the tensor's elements contiguous and row-major.</summary>
    public void WriteContiguous(Stream stream, Action<ReadOnlySpan<byte>>? observe = null)
    {
        int size = DType.ElementSize();
        if (IsContiguous)
        {
            Storage.WriteTo(stream, StorageOffset * size, ByteLength, observe);
            return;
        }
        // A strided view: read the part of the storage it can address, gather, write.
        long extent = 1;
        for (int d = 0; d < Shape.Length; d++)
        {
            extent += (Shape[d] - 1) * Strides[d];
        }
        var source = new byte[checked(extent * size)];
        Storage.CopyTo(StorageOffset * size, source);
        var gathered = new byte[checked(ByteLength)];
        Span<long> index = stackalloc long[Shape.Length];
        for (long i = 0, at = 0; i < ElementCount; i++, at += size)
        {
            long element = 0;
            for (int d = 0; d < Shape.Length; d++)
            {
                element += index[d] * Strides[d];
            }
            source.AsSpan(checked((int)(element * size)), size).CopyTo(gathered.AsSpan((int)at, size));
            for (int d = Shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < Shape[d])
                {
                    break;
                }
                index[d] = 0;
            }
        }
        stream.Write(gathered);
        observe?.Invoke(gathered);
    }
}

/// <summary>One entry of what is written, in order: a tensor or a plain value.</summary>
internal abstract record WriteEntry(string Key);

internal sealed record TensorWriteEntry(TensorEntry Tensor) : WriteEntry(Tensor.Key);

internal sealed record ValueWriteEntry(string Key, object? Value) : WriteEntry(Key);
