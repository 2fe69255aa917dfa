using System.Buffers.Binary;
using System.Runtime.InteropServices;
using StateDict.Containers;
using StateDict.Torch;

namespace StateDict.Reading;

/// <summary>
/// Loads each storage once, on first use, into an array of its element type, and keeps it: tensors that
/// share a storage (tied weights, views) share the array. Bytes are swapped to the machine's order here.
/// </summary>
internal sealed class StorageCache(IContainer container, string filePath, IReadOnlyDictionary<string, StorageLocation> locations)
{
    private readonly Dictionary<string, Array> _arrays = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public T[] Get<T>(StorageRef storage) where T : unmanaged
    {
        lock (_lock)
        {
            if (_arrays.TryGetValue(storage.Key, out var cached))
            {
                return (T[])cached;
            }
            var array = Load<T>(storage);
            _arrays.Add(storage.Key, array);
            return array;
        }
    }

    private T[] Load<T>(StorageRef storage) where T : unmanaged
    {
        var location = locations[storage.Key];
        long count = storage.ElementCount;
        if (count > Array.MaxLength)
        {
            throw new CheckpointFormatException(filePath,
                $"storage '{storage.Key}' has {count} elements, more than one .NET array can hold ({Array.MaxLength})");
        }
        var array = GC.AllocateUninitializedArray<T>((int)count);
        var bytes = MemoryMarshal.AsBytes(array.AsSpan());
        // An untyped storage may hold a few bytes beyond its last whole element; they are never addressed.
        if (location.Length < bytes.Length)
        {
            throw new CheckpointCorruptException(filePath, $"{location.Record} holds {location.Length} bytes but storage '{storage.Key}' needs {bytes.Length}");
        }
        container.ReadStorage(location with { Length = bytes.Length }, bytes);
        var dtype = storage.DType!.Value;
        if (container.BigEndian)
        {
            SwapBytes(bytes, dtype);
        }
        if (dtype == DType.Bool && bytes.IndexOfAnyExcept((byte)0, (byte)1) is var bad and >= 0)
        {
            throw new CheckpointCorruptException(filePath, $"bool storage '{storage.Key}' holds the byte {bytes[bad]} at element {bad}; bools must be 0 or 1");
        }
        return array;
    }

    private static void SwapBytes(Span<byte> bytes, DType dtype)
    {
        int unit = dtype is DType.Complex64 or DType.Complex128 ? dtype.ElementSize() / 2 : dtype.ElementSize();
        switch (unit)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(bytes), MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(bytes), MemoryMarshal.Cast<byte, uint>(bytes)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(bytes), MemoryMarshal.Cast<byte, ulong>(bytes)); break;
        }
    }
}
