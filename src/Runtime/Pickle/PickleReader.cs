using System.Buffers.Binary;

namespace StateDict.Pickle;

/// <summary>
/// How FRAME boundaries (protocol 4 and 5) are read. CPython's C unpickler buffers a frame and serves reads from it;
/// a read that runs past the frame's end is served differently by different file objects, so a pickle whose reads
/// straddle a frame end means different things to different readers of the same bytes.
/// </summary>
internal enum FrameReading
{
    /// <summary>
    /// The reader's own mode: a read may not cross the end of its frame, a FRAME may not start inside a frame, and a
    /// pickle may not STOP before its frame ends. Where these hold, every CPython file object reads what this reader reads.
    /// </summary>
    Strict,

    /// <summary>Frames ignored: CPython reading a buffered file (<c>open(path, 'rb')</c>: prefetching with <c>peek</c>).</summary>
    Contiguous,

    /// <summary>
    /// CPython 3.8+ reading a file object without <c>peek</c> (<c>io.BytesIO</c>, what <c>torch.load</c> wraps a zip
    /// archive's <c>data.pkl</c> in): a read that does not fit in the rest of the frame drops that rest and starts after
    /// the frame; bytes payloads (<c>readinto</c>) take the rest and continue after it.
    /// </summary>
    DropFrameTail,

    /// <summary>As <see cref="DropFrameTail"/>, for CPython 3.7, which also drops the frame's rest under bytes payloads.</summary>
    DropFrameTailUnderBytesToo,
}

/// <summary>
/// Bounds-checked cursor over pickle bytes. Every length read from the file is compared with the bytes
/// actually left before anything is sliced or allocated; every read is checked against the current frame's end.
/// </summary>
internal ref struct PickleReader(ReadOnlySpan<byte> data, PickleSource source, FrameReading frames = FrameReading.Strict)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private readonly FrameReading _frames = frames;

    /// <summary>Where the current frame ends; 0 outside frames (a frame never ends at byte 0).</summary>
    private int _frameEnd;

    public int Position { get; private set; }

    public readonly PickleSource Source { get; } = source;

    public readonly int Remaining => _data.Length - Position;

    /// <summary>Where the bytes stopped meaning one thing to every CPython file object (strict mode), or -1.</summary>
    public int FrameDesyncAt { get; private set; } = -1;

    public byte ReadByte()
    {
        Need(1, "an opcode or argument");
        return _data[Position++];
    }

    public ReadOnlySpan<byte> ReadBytes(long count, string what) => Read(count, what, bytesPayload: false);

    /// <summary>A bytes payload (BINBYTES, BYTEARRAY8...), which CPython 3.8+ reads with <c>readinto</c>.</summary>
    public ReadOnlySpan<byte> ReadBytesPayload(long count, string what) => Read(count, what, bytesPayload: true);

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, "a 2-byte argument"));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, "a 4-byte argument"));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, "a 4-byte argument"));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8, "an 8-byte argument"));

    public double ReadFloat64BigEndian() => BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8, "an 8-byte float"));

    /// <summary>A length prefix of 1, 4 or 8 bytes, checked against the bytes left.</summary>
    public long ReadLength(int width, string what)
    {
        int at = Position;
        ulong length = width switch
        {
            1 => ReadByte(),
            4 => ReadUInt32(),
            _ => ReadUInt64(),
        };
        if (length > (ulong)Remaining)
        {
            throw Source.Corrupt(at, $"{what} declares {length} bytes but only {Remaining} remain");
        }
        return (long)length;
    }

    /// <summary>A protocol-0 text argument up to (not including) the next newline (a '\r' before it is kept, as CPython keeps it).</summary>
    public ReadOnlySpan<byte> ReadLine(string what)
    {
        int newline = _data[Position..].IndexOf((byte)'\n');
        if (Position < _frameEnd && (newline < 0 || newline >= _frameEnd - Position))
        {
            // CPython looks for the newline in the frame's buffer only, then reads a line from the file.
            Straddle($"{what} runs past the end of its FRAME at byte {_frameEnd}", bytesPayload: false);
            newline = _data[Position..].IndexOf((byte)'\n');
        }
        if (newline < 0)
        {
            throw Source.Corrupt(Position, $"{what} is not terminated by a newline before the end of the data");
        }
        var line = _data.Slice(Position, newline);
        Position += newline + 1;
        return line; // CPython strips the '\n' only: a '\r' before it is part of the argument.
    }

    /// <summary>FRAME at <paramref name="at"/>: the next <paramref name="length"/> bytes are one frame.</summary>
    public void BeginFrame(int at, ulong length)
    {
        int leftover = Math.Max(0, _frameEnd - Position);
        if (_frames == FrameReading.Strict && at < _frameEnd)
        {
            Desync(at, $"FRAME inside the frame that ends at byte {_frameEnd}");
        }
        if (_frames is FrameReading.DropFrameTail or FrameReading.DropFrameTailUnderBytesToo && leftover > 0)
        {
            if (length <= (ulong)leftover)
            {
                return; // CPython finds the whole frame in its buffer already: nothing changes.
            }
            Position = _frameEnd; // CPython drops the rest of the buffer and reads the new frame from the file.
        }
        if (length > (ulong)Remaining)
        {
            throw Source.Corrupt(at, $"FRAME declares {length} bytes but only {Remaining} remain");
        }
        _frameEnd = _frames == FrameReading.Contiguous ? 0 : Position + (int)length;
    }

    /// <summary>STOP was read: in strict mode, refuses a frame that goes on after it (the next pickle's start would depend on the file object).</summary>
    public void EndPickle(int at)
    {
        if (_frames == FrameReading.Strict && Position < _frameEnd)
        {
            Desync(at, $"STOP inside a FRAME that goes on to byte {_frameEnd}; where the next read starts depends on the file object");
        }
    }

    private ReadOnlySpan<byte> Read(long count, string what, bool bytesPayload)
    {
        if (count < 0)
        {
            throw Source.Corrupt(Position, $"{what} has negative length {count}");
        }
        Need(count, what, bytesPayload);
        var slice = _data.Slice(Position, (int)count);
        Position += (int)count;
        return slice;
    }

    private void Need(long count, string what, bool bytesPayload = false)
    {
        if (Position < _frameEnd && count > _frameEnd - Position)
        {
            Straddle($"{what} of {count} bytes runs past the end of its FRAME at byte {_frameEnd}", bytesPayload);
        }
        if (count > Remaining)
        {
            throw Source.Corrupt(Position, Remaining == 0
                ? $"unexpected end of data: expected {what}"
                : $"unexpected end of data: {what} needs {count} bytes but only {Remaining} remain");
        }
    }

    /// <summary>A read that does not fit in the rest of the frame: refused, or read the way the emulated file object reads it.</summary>
    private void Straddle(string problem, bool bytesPayload)
    {
        switch (_frames)
        {
            case FrameReading.Strict:
                Desync(Position, problem);
                break;
            case FrameReading.DropFrameTail when bytesPayload:
            case FrameReading.Contiguous:
                break;
            default:
                Position = _frameEnd;
                break;
        }
        _frameEnd = 0;
    }

    private void Desync(int at, string problem)
    {
        FrameDesyncAt = at;
        throw Source.Corrupt(at, problem + " (CPython reads such bytes differently depending on the file object)");
    }
}

/// <summary>Where a pickle came from, for error messages: the file and the part of it (e.g. <c>archive/data.pkl</c>).</summary>
internal sealed record PickleSource(string FilePath, string Part)
{
    public CheckpointCorruptException Corrupt(long offset, string problem) =>
        new(FilePath, $"corrupt pickle: {Part} byte {offset}: {problem}");

    public CheckpointFormatException Unsupported(long offset, string problem) =>
        new(FilePath, $"unsupported pickle: {Part} byte {offset}: {problem}");
}
