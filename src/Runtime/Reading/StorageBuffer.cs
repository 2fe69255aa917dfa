namespace StateDict.Reading;

/// <summary>A storage's elements in memory: a managed array, or native memory (arena or file mapping) owned by a region.</summary>
internal sealed unsafe class StorageBuffer
{
    private readonly Array? _array;
    private readonly byte* _pointer;
    private readonly NativeRegion? _region;

    public StorageBuffer(Array array) => _array = array;

    public StorageBuffer(byte* pointer, long byteLength, NativeRegion region)
    {
        _pointer = pointer;
        ByteLength = byteLength;
        _region = region;
    }

    public long ByteLength { get; }

    /// <summary>Elements [start, start + count) as memory that shares this buffer.</summary>
    public ReadOnlyMemory<T> Slice<T>(long start, int count) where T : unmanaged =>
        _array is T[] array
            ? array.AsMemory(checked((int)start), count)
            : new NativeMemoryManager<T>(_region!, (T*)_pointer + start, count).Memory;

    /// <summary>Elements [start, start + count) as a span (for gathering strided views).</summary>
    public ReadOnlySpan<T> Span<T>(long start, int count) where T : unmanaged
    {
        if (_array is T[] array)
        {
            return array.AsSpan(checked((int)start), count);
        }
        _region!.ThrowIfReleased();
        return new ReadOnlySpan<T>((T*)_pointer + start, count);
    }
}
