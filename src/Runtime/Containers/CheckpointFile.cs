using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace StateDict.Containers;

/// <summary>
/// The open checkpoint file: positional reads for tensor bytes, and a read-only mapping for pickles that are
/// parsed in place (legacy and plain-pickle files, whose pickles have no length header).
/// </summary>
internal sealed unsafe class CheckpointFile : IDisposable
{
    private readonly FileStream _stream;
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    public CheckpointFile(string path)
    {
        Path = path;
        try
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.RandomAccess); // the buffer serves the zip directory parser; tensor bytes use positional reads
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CheckpointFormatException(path, $"cannot open the file: {e.Message}", e);
        }
        Length = _stream.Length;
        MappingRegion = new Reading.NativeRegion(path);
    }

    public string Path { get; }

    public long Length { get; }

    public Stream Stream => _stream;

    public SafeFileHandle Handle => _stream.SafeFileHandle;

    /// <summary>Reads exactly <c>destination.Length</c> bytes at <paramref name="offset"/>, or throws naming <paramref name="what"/>.</summary>
    public void ReadExactly(long offset, Span<byte> destination, string what)
    {
        if (offset < 0 || offset > Length || destination.Length > Length - offset)
        {
            throw new CheckpointCorruptException(Path,
                $"{what} spans bytes {offset}..{offset + destination.Length} but the file has {Length} (truncated?)");
        }
        while (destination.Length > 0)
        {
            int read = RandomAccess.Read(Handle, destination, offset);
            if (read == 0)
            {
                throw new CheckpointCorruptException(Path, $"{what}: the file ended early at byte {offset}");
            }
            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>A few bytes at <paramref name="offset"/>, read through the mapping (no system call), bounds checked.</summary>
    /// <remarks><paramref name="what"/> and <paramref name="subject"/> are joined only for the error message, so hot callers allocate nothing.</remarks>
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
            _map = MemoryMappedFile.CreateFromFile(_stream, mapName: null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
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
        if (_pointer != null)
        {
            _view!.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }
        _view?.Dispose();
        _map?.Dispose();
        _stream.Dispose();
    }
}
