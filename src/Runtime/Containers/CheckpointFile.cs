using System.Runtime.CompilerServices;
using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace StateDict.Containers;

/// <summary>
/// The open checkpoint: positional reads for tensor bytes, and a read-only mapping for pickles that are parsed in
/// place (legacy and plain-pickle files, whose pickles have no length header). Backed by a file (read with positional
/// reads, mapped on first use) or by bytes already in memory (<see cref="Checkpoint.Open(ReadOnlyMemory{byte}, LoadOptions?, string?)"/>,
/// <see cref="Checkpoint.Open(Stream, LoadOptions?, string?)"/>), where "mapping" is the memory itself.
/// </summary>
internal sealed unsafe class CheckpointFile : IDisposable
{
    private const int MappedReadBytes = 64 << 10;

    private readonly FileStream? _file;
    private readonly UnmanagedMemoryStream? _memoryStream;
    private MemoryHandle _pin;
    private byte* _owned;
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _pointer;
    private long _bytesRead;

    public CheckpointFile(string path)
    {
        Path = path;
        try
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.RandomAccess); // the buffer serves the zip directory parser; tensor bytes use positional reads
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CheckpointFormatException(path, $"cannot open the file: {e.Message}", e);
        }
        Length = _file.Length;
        MappingRegion = new Reading.NativeRegion(path);
    }

    /// <summary>Bytes in memory, pinned for the file's lifetime; <paramref name="name"/> stands for the path in messages.</summary>
    public CheckpointFile(ReadOnlyMemory<byte> data, string name)
    {
        Path = name;
        Length = data.Length;
        _pin = data.Pin();
        _pointer = Length == 0 ? (byte*)NativeMemory.Alloc(1) : (byte*)_pin.Pointer;
        if (Length == 0)
        {
            _owned = _pointer;
        }
        _memoryStream = new UnmanagedMemoryStream(_pointer, Length);
        MappingRegion = new Reading.NativeRegion(name);
    }

    private CheckpointFile(byte* owned, long length, string name)
    {
        Path = name;
        Length = length;
        _owned = owned;
        _pointer = owned;
        _memoryStream = new UnmanagedMemoryStream(_pointer, Length);
        MappingRegion = new Reading.NativeRegion(name);
    }

    /// <summary>
    /// The whole of <paramref name="stream"/>, from its current position, copied once into native memory (a checkpoint
    /// needs random access: the zip directory is at the end). A <see cref="MemoryStream"/> whose buffer is exposed is used in place.
    /// </summary>
    public static CheckpointFile FromStream(Stream stream, string name)
    {
        if (stream is MemoryStream memory && memory.TryGetBuffer(out var buffer))
        {
            return new CheckpointFile(buffer.AsMemory((int)memory.Position), name);
        }
        if (!stream.CanRead)
        {
            throw new ArgumentException("the stream cannot be read", nameof(stream));
        }
        if (stream.CanSeek)
        {
            long length = Math.Max(0, stream.Length - stream.Position);
            byte* owned = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, length));
            try
            {
                for (long done = 0; done < length;)
                {
                    int read = stream.Read(new Span<byte>(owned + done, (int)Math.Min(int.MaxValue, length - done)));
                    if (read == 0)
                    {
                        length = done; // the stream was shorter than it said
                        break;
                    }
                    done += read;
                }
                return new CheckpointFile(owned, length, name);
            }
            catch
            {
                NativeMemory.Free(owned);
                throw;
            }
        }
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new CheckpointFile(copy.GetBuffer().AsMemory(0, (int)copy.Length), name);
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>True when the bytes are in memory rather than in a file on disk (no folder to find shards in).</summary>
    public bool InMemory => _file is null;

    /// <summary>A stream over the whole checkpoint (for SharpZipLib's directory reader).</summary>
    public Stream Stream => (Stream?)_file ?? _memoryStream!;

    /// <summary>Bytes copied out by <see cref="ReadExactly"/> so far: what reading tensors cost (tests count it).</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Reads exactly <c>destination.Length</c> bytes at <paramref name="offset"/>, or throws naming <paramref name="what"/>.</summary>
    /// <remarks><paramref name="what"/> and <paramref name="subject"/> are joined only for an error message, so hot callers allocate nothing.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ReadExactly(long offset, Span<byte> destination, string what, string? subject = null)
    {
        if (offset < 0 || offset > Length || destination.Length > Length - offset)
        {
            throw new CheckpointCorruptException(Path,
                $"{what}{subject} spans bytes {offset}..{offset + destination.Length} but the file has {Length} (truncated?)");
        }
        Interlocked.Add(ref _bytesRead, destination.Length);
        // Small reads come from the mapping when it exists (a zip's directory was read through it): a copy instead of
        // a system call per small tensor. Large ones stay positional reads, which fill fresh memory faster.
        byte* mapped = _pointer;
        if (_file is null || (mapped != null && destination.Length <= MappedReadBytes))
        {
            MappingRegion.ThrowIfReleased();
            new ReadOnlySpan<byte>(mapped + offset, destination.Length).CopyTo(destination);
            return;
        }
        while (destination.Length > 0)
        {
            int read = RandomAccess.Read(_file.SafeFileHandle, destination, offset);
            if (read == 0)
            {
                throw new CheckpointCorruptException(Path, $"{what}{subject}: the file ended early at byte {offset}");
            }
            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>A few bytes at <paramref name="offset"/>, read through the mapping (no system call), bounds checked.</summary>
    /// <remarks><paramref name="what"/> and <paramref name="subject"/> are joined only for the error message, so hot callers allocate nothing.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<byte> Peek(long offset, int length, string what, string? subject = null)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new CheckpointCorruptException(Path, $"{what}{subject} spans bytes {offset}..{offset + length} but the file has {Length} (truncated?)");
        }
        return new ReadOnlySpan<byte>(Map() + offset, length);
    }

    /// <summary>The first <paramref name="maxLength"/> bytes of the file (or all of it), mapped read-only.</summary>
    public ReadOnlySpan<byte> MapPrefix(long maxLength)
    {
        long length = Math.Min(Math.Min(Length, maxLength), int.MaxValue);
        return length == 0 ? [] : new ReadOnlySpan<byte>(Map(), (int)length);
    }

    /// <summary>The whole file mapped read-only (made on first use, unmapped on dispose; views check <see cref="MappingRegion"/>).</summary>
    public byte* Map()
    {
        if (_pointer == null)
        {
            _map = MemoryMappedFile.CreateFromFile(_file!, mapName: null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, Length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _pointer = pointer + _view.PointerOffset;
        }
        return _pointer;
    }

    /// <summary>Released when the file is disposed, so views into the mapping stop working instead of faulting.</summary>
    public Reading.NativeRegion MappingRegion { get; }

    public void Dispose()
    {
        MappingRegion.Release();
        if (_view is not null && _pointer != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _pointer = null;
        _view?.Dispose();
        _map?.Dispose();
        _file?.Dispose();
        _memoryStream?.Dispose();
        _pin.Dispose();
        if (_owned != null)
        {
            NativeMemory.Free(_owned);
            _owned = null;
        }
    }
}
