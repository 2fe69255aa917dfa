using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using StateDict.Containers;
using StateDict.Torch;

namespace StateDict.Reading;

/// <summary>
/// Gives each storage's elements once, on first use, and keeps them: tensors sharing a storage (tied weights, views)
/// share the buffer. Depending on <see cref="TensorMemory"/> the bytes are read into a managed array, read into a
/// huge-page arena, or not read at all (a view of the memory-mapped file). Bytes are swapped to the machine's order
/// on the copy paths; mapped storages are only those that need no swapping.
/// </summary>
internal sealed unsafe class StorageCache : IDisposable
{
    private const long AutoArenaThreshold = 16L << 20;
    // Many small storages go to the arena too, whatever their total: as managed arrays each one is an object the GC
    // promotes, and copies, generation by generation while the cache keeps it (read-each on 20,000 tensors of 820 bytes,
    // one core busy: 3.2–4.6 µs a tensor managed, 2.5–2.8 µs in the arena).
    private const int AutoArenaStorages = 4096;
    private const int ChunkBytes = 1 << 30;
    // The smallest part of a range read on another thread. Measured on the 2 GB file's slices (12 runs each, medians):
    // 512 KiB parts made them slower (149 ms against 132 ms on one thread: two threads faulting small fresh arrays
    // contend); 4 MiB parts, so only ranges from 8 MiB are split, 113 ms.
    private const int ParallelRangeBytes = 4 << 20;

    private readonly IContainer _container;
    private readonly CheckpointFile _file;
    private readonly IReadOnlyDictionary<string, StorageLocation> _locations;
    private readonly TensorMemory _mode;
    private ConcurrentDictionary<string, StorageSlot>? _buffers;
    private readonly Lock _arenaLock = new();
    private HugePageArena? _arena;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public StorageCache(IContainer container, CheckpointFile file, IReadOnlyDictionary<string, StorageLocation> locations, TensorMemory mode)
    {
        _container = container;
        _file = file;
        _locations = locations;
        // A loop, not LINQ's Sum: one generic instantiation fewer to compile on a process's first open.
        foreach (var location in locations.Values)
        {
            TotalBytes += location.Length;
        }
        _mode = mode != TensorMemory.Auto ? mode
            : TotalBytes >= AutoArenaThreshold || locations.Count >= AutoArenaStorages ? TensorMemory.NativeArena
            : TensorMemory.Managed;
    }

    /// <summary>Bytes of all storages together.</summary>
    public long TotalBytes { get; }

    public TensorMemory Mode => _mode;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public StorageBuffer Get<T>(StorageRef storage) where T : unmanaged
    {
        var slot = Buffers.GetOrAdd(storage.Key, static _ => new StorageSlot());
        if (slot.Buffer is { } loaded)
        {
            return loaded;
        }
        lock (slot)
        {
            // Loaded once, by the first reader; the others wait for it (as Lazy's ExecutionAndPublication, without its
            // delegate and helper objects per storage: a 20,000-tensor file reads 20,000 storages).
            return slot.Buffer ??= Load<T>(storage);
        }
    }

    public void Dispose() => _arena?.Dispose();

    /// <summary>
    /// The loaded storages, made on the first read (opening allocates nothing for it) and sized for every storage at
    /// once: reading 20,000 small tensors would otherwise regrow the table a dozen times.
    /// </summary>
    private ConcurrentDictionary<string, StorageSlot> Buffers =>
        _buffers ?? LazyInitializer.EnsureInitialized(ref _buffers, () => new(Environment.ProcessorCount, _locations.Count, StringComparer.Ordinal));

    /// <summary>
    /// The storage's buffer if having it costs no read: already loaded, or a view of the mapping in
    /// <see cref="TensorMemory.MemoryMapped"/> mode; null when only reading from the file would give it.
    /// </summary>
    public StorageBuffer? Resident<T>(StorageRef storage) where T : unmanaged
    {
        if (_buffers is not null && _buffers.TryGetValue(storage.Key, out var loaded) && loaded.Buffer is { } buffer)
        {
            return buffer;
        }
        return _mode == TensorMemory.MemoryMapped && IsMappable(storage, _locations[storage.Key]) ? Get<T>(storage) : null;
    }

    /// <summary>
    /// The storage's buffer when a part of it (a slice, a <c>CopyTo</c>) is best taken from memory: already loaded,
    /// mapped, or in a compressed record, which inflates only from its start (so it is loaded whole, once, and kept).
    /// Null when the part should be read straight from the file with <see cref="ReadRange"/>.
    /// </summary>
    public StorageBuffer? ForRange<T>(StorageRef storage) where T : unmanaged =>
        Resident<T>(storage) ?? (_locations[storage.Key].Compressed ? Get<T>(storage) : null);

    /// <summary>
    /// Reads bytes [<paramref name="byteStart"/>, + <c>destination.Length</c>) of a storage straight from the file, without
    /// loading the rest of it (slices): swapped to the machine's order, like a full load.
    /// </summary>
    public void ReadRange(StorageRef storage, long byteStart, Span<byte> destination)
    {
        var location = _locations[storage.Key];
        CheckLength(storage, location);
        int parts = location.Compressed ? 1 : Math.Min(Environment.ProcessorCount, destination.Length / ParallelRangeBytes);
        if (parts < 2)
        {
            Fill(storage, location, destination, byteStart);
            return;
        }
        // A large range (a slice of an embedding, say) is read in parts on every core, as Preload reads storages:
        // a fresh array's pages are faulted, and cleared by the kernel, in parallel. Parts are whole 64-byte blocks,
        // so no element (and no byte swap) straddles two of them.
        fixed (byte* start = destination)
        {
            nint address = (nint)start;
            int length = destination.Length;
            int part = (length / parts + 63) & ~63;
            ParallelReads.For(parts, i =>
            {
                int from = i * part;
                int bytes = Math.Min(part, length - from);
                if (bytes > 0)
                {
                    Fill(storage, location, new Span<byte>((byte*)address + from, bytes), byteStart + from);
                }
            });
        }
    }

    /// <summary>The storage's bytes, after checking its record holds them all.</summary>
    private long CheckLength(StorageRef storage, StorageLocation location)
    {
        long bytes = storage.ElementCount * storage.DType!.Value.ElementSize();
        // An untyped storage may hold a few bytes beyond its last whole element; they are never addressed.
        if (location.Length < bytes)
        {
            throw new CheckpointCorruptException((location.File ?? _file).Path, $"{location.Record} holds {location.Length} bytes but storage '{storage.Key}' needs {bytes}");
        }
        return bytes;
    }

    private bool IsMappable(StorageRef storage, StorageLocation location) =>
        !location.Compressed && !_container.BigEndian;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private StorageBuffer Load<T>(StorageRef storage) where T : unmanaged
    {
        var location = _locations[storage.Key];
        var file = location.File ?? _file; // a shard's own file, for sharded checkpoints
        long bytes = CheckLength(storage, location);
        if (_mode == TensorMemory.MemoryMapped && IsMappable(storage, location))
        {
            return new StorageBuffer(file.Map() + location.Offset, bytes, file.MappingRegion);
        }
        if (_mode == TensorMemory.Managed || _mode == TensorMemory.MemoryMapped)
        {
            if (storage.ElementCount > Array.MaxLength)
            {
                throw new CheckpointFormatException(_file.Path,
                    $"storage '{storage.Key}' has {storage.ElementCount} elements, more than one .NET array can hold ({Array.MaxLength}); open it with TensorMemory.NativeArena");
            }
            var array = GC.AllocateUninitializedArray<T>((int)storage.ElementCount);
            HugePageArena.AdviseHugePages(array); // fresh, untouched GC memory: faulted 2 MiB at a time when large
            Fill(storage, location, MemoryMarshal.AsBytes(array.AsSpan()), 0);
            return new StorageBuffer(array);
        }
        byte* pointer;
        lock (_arenaLock)
        {
            _arena ??= new HugePageArena(TotalBytes + (_locations.Count * 64L), _file.Path);
            pointer = _arena.Allocate(bytes);
        }
        for (long start = 0; start < bytes; start += ChunkBytes)
        {
            Fill(storage, location, new Span<byte>(pointer + start, (int)Math.Min(ChunkBytes, bytes - start)), start);
        }
        return new StorageBuffer(pointer, bytes, _arena.Region);
    }

    /// <summary>Reads one chunk of a storage straight into its final place, then fixes byte order. Bool bytes are kept as stored, 0, 1 or any other (see <see cref="DType.Bool"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fill(StorageRef storage, StorageLocation location, Span<byte> destination, long start)
    {
        _container.ReadStorage(location, start, destination);
        var dtype = storage.DType!.Value;
        if (_container.BigEndian)
        {
            SwapBytes(destination, dtype);
        }
    }

    /// <summary>Where a storage's buffer goes once read (null until then).</summary>
    private sealed class StorageSlot
    {
        public volatile StorageBuffer? Buffer;
    }

    private static void SwapBytes(Span<byte> bytes, DType dtype)
    {
        int unit = dtype is DType.Complex32 or DType.Complex64 or DType.Complex128 ? dtype.ElementSize() / 2 : dtype.ElementSize();
        switch (unit)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(bytes), MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(bytes), MemoryMarshal.Cast<byte, uint>(bytes)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(bytes), MemoryMarshal.Cast<byte, ulong>(bytes)); break;
        }
    }
}
