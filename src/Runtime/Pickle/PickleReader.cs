using System.Buffers.Binary;

namespace StateDict.Pickle;

/// <summary>
/// Bounds-checked cursor over pickle bytes. Every length read from the file is compared with the bytes
/// actually left before anything is sliced or allocated.
/// </summary>
internal ref struct PickleReader(ReadOnlySpan<byte> data, PickleSource source)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly PickleSource Source { get; } = source;

    public readonly int Remaining => _data.Length - Position;

    public byte ReadByte()
    {
        Need(1, "an opcode or argument");
        return _data[Position++];
    }

    public ReadOnlySpan<byte> ReadBytes(long count, string what)
    {
        if (count < 0)
        {
            throw Source.Corrupt(Position, $"{what} has negative length {count}");
        }
        Need(count, what);
        var slice = _data.Slice(Position, (int)count);
        Position += (int)count;
        return slice;
    }

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

    /// <summary>A protocol-0 text argument up to (not including) the next newline.</summary>
    public ReadOnlySpan<byte> ReadLine(string what)
    {
        var rest = _data[Position..];
        int newline = rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            throw Source.Corrupt(Position, $"{what} is not terminated by a newline before the end of the data");
        }
        Position += newline + 1;
        var line = rest[..newline];
        return line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
    }

    private readonly void Need(long count, string what)
    {
        if (count > Remaining)
        {
            throw Source.Corrupt(Position, Remaining == 0
                ? $"unexpected end of data: expected {what}"
                : $"unexpected end of data: {what} needs {count} bytes but only {Remaining} remain");
        }
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
