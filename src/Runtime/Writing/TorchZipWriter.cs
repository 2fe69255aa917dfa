using System.Buffers.Binary;
using System.Text;

namespace StateDict.Writing;

/// <summary>
/// The zip archive <c>torch.save</c> writes (PyTorchStreamWriter over miniz): every record STORED under one folder
/// named after the file, its data 64-byte aligned by a local extra field <c>"FB"</c> (0x4246) padded with <c>'Z'</c>;
/// local headers with flags 0x0808, zero CRC and sizes, time and version fields; the real CRC and sizes in a
/// <c>PK\x07\x08</c> data descriptor after the data (64-bit sizes when the record or its header offset passes
/// 0xFFFFFFFF; none after an empty record, whose flags are then 0x0800) and in the central directory, which then uses zip64 extras; always a zip64 end of central directory.
/// </summary>
internal sealed class TorchZipWriter
{
    private const int Alignment = 64;
    private const ushort Flags = 0x0808; // bit 3: data descriptor; bit 11: UTF-8 names
    private const ushort EmptyFlags = 0x0800; // miniz writes no data descriptor after an empty record
    private const ushort Zip64ExtraId = 0x0001;
    private const ushort PaddingExtraId = 0x4246; // "FB"

    private readonly Stream _stream;
    private readonly string _prefix;
    private readonly long _zip64Threshold;
    private readonly long _zip64OffsetThreshold;
    private readonly List<Record> _records = [];

    /// <param name="stream">Where to write, from its current position (taken as offset 0).</param>
    /// <param name="archiveName">The folder every record lives in (torch: the file name without its extension).</param>
    /// <param name="zip64Threshold">Sizes at or above this use zip64 fields; lower only in tests.</param>
    /// <param name="zip64OffsetThreshold">Offsets at or above this use zip64 fields; lower only in tests.</param>
    public TorchZipWriter(Stream stream, string archiveName, long zip64Threshold = uint.MaxValue, long zip64OffsetThreshold = uint.MaxValue)
    {
        _stream = stream;
        _prefix = archiveName + "/";
        _zip64Threshold = zip64Threshold;
        _zip64OffsetThreshold = zip64OffsetThreshold;
    }

    /// <summary>Bytes written so far.</summary>
    public long Position { get; private set; }

    /// <summary>torch's archive name for a path: the file name up to its last dot ("archive" when that is empty).</summary>
    public static string ArchiveNameFor(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        return stem.Length == 0 ? "archive" : stem;
    }

    public void WriteRecord(string name, ReadOnlySpan<byte> data)
    {
        var copy = data.ToArray();
        WriteRecord(name, copy.Length, (stream, observe) =>
        {
            stream.Write(copy);
            observe(copy);
        });
    }

    /// <summary>
    /// Writes a record of <paramref name="size"/> bytes that <paramref name="writeData"/> writes to the stream,
    /// passing each chunk it wrote to the observer it is given (for the CRC and the count).
    /// </summary>
    public void WriteRecord(string name, long size, Action<Stream, Action<ReadOnlySpan<byte>>> writeData)
    {
        byte[] fullName = Encoding.UTF8.GetBytes(_prefix + name);
        long offset = Position;
        bool bigSize = size >= _zip64Threshold;
        bool bigOffset = offset >= _zip64OffsetThreshold;

        // Local zip64 extra (miniz writes one when the size or the header offset needs it), then the "FB" padding.
        var extra = new MemoryStream();
        if (bigSize || bigOffset)
        {
            WriteU16(extra, Zip64ExtraId);
            WriteU16(extra, (ushort)((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)));
            if (bigSize)
            {
                WriteU64(extra, (ulong)size);
                WriteU64(extra, (ulong)size);
            }
            if (bigOffset)
            {
                WriteU64(extra, (ulong)offset);
            }
        }
        long start = offset + 30 + fullName.Length + extra.Length + 4;
        int padding = (int)((Alignment - (start % Alignment)) % Alignment);
        WriteU16(extra, PaddingExtraId);
        WriteU16(extra, (ushort)padding);
        for (int i = 0; i < padding; i++)
        {
            extra.WriteByte((byte)'Z');
        }

        Span<byte> header = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034B50);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 0);      // version needed (miniz: 0)
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], size == 0 ? EmptyFlags : Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 0);      // STORED
        // time, date, CRC, sizes: zero (the data descriptor has them)
        header[10..26].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)fullName.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)extra.Length);
        Write(header);
        Write(fullName);
        Write(extra.GetBuffer().AsSpan(0, (int)extra.Length));

        var crc = new System.IO.Hashing.Crc32();
        long written = 0;
        writeData(_stream, chunk =>
        {
            crc.Append(chunk);
            written += chunk.Length;
        });
        if (written != size)
        {
            throw new InvalidOperationException($"record {name}: {written} bytes written, {size} declared");
        }
        Position += size;
        uint checksum = crc.GetCurrentHashAsUInt32();

        if (size == 0)
        {
            _records.Add(new Record(fullName, offset, size, checksum));
            return;
        }
        bool zip64Descriptor = bigSize || bigOffset;
        Span<byte> descriptor = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor, 0x08074B50);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[4..], checksum);
        if (zip64Descriptor)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor[8..], (ulong)size);
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor[16..], (ulong)size);
            Write(descriptor);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[8..], (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[12..], (uint)size);
            Write(descriptor[..16]);
        }
        _records.Add(new Record(fullName, offset, size, checksum));
    }

    /// <summary>Writes the central directory and the (zip64) end records.</summary>
    public void Finish()
    {
        long directoryStart = Position;
        Span<byte> entry = stackalloc byte[46];
        Span<byte> zip64 = stackalloc byte[28];
        foreach (var record in _records)
        {
            bool bigSize = record.Size >= _zip64Threshold;
            bool bigOffset = record.Offset >= _zip64OffsetThreshold;
            int extraLength = bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
            BinaryPrimitives.WriteUInt32LittleEndian(entry, 0x02014B50);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[4..], 0);   // version made by (miniz: 0)
            BinaryPrimitives.WriteUInt16LittleEndian(entry[6..], 0);   // version needed (miniz: 0)
            BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], record.Size == 0 ? EmptyFlags : Flags);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[10..], 0);  // STORED
            BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], 0);  // time, date
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], record.Crc);
            uint size32 = bigSize ? uint.MaxValue : (uint)record.Size;
            BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], size32);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], size32);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[28..], (ushort)record.Name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[30..], (ushort)extraLength);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[32..], 0);  // comment
            BinaryPrimitives.WriteUInt16LittleEndian(entry[34..], 0);  // disk
            BinaryPrimitives.WriteUInt16LittleEndian(entry[36..], 0);  // internal attributes
            BinaryPrimitives.WriteUInt32LittleEndian(entry[38..], 0);  // external attributes
            BinaryPrimitives.WriteUInt32LittleEndian(entry[42..], bigOffset ? uint.MaxValue : (uint)record.Offset);
            Write(entry);
            Write(record.Name);
            if (extraLength > 0)
            {
                var extra = zip64[..extraLength];
                BinaryPrimitives.WriteUInt16LittleEndian(extra, Zip64ExtraId);
                BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)(extraLength - 4));
                int at = 4;
                if (bigSize)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(extra[at..], (ulong)record.Size);
                    BinaryPrimitives.WriteUInt64LittleEndian(extra[(at + 8)..], (ulong)record.Size);
                    at += 16;
                }
                if (bigOffset)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(extra[at..], (ulong)record.Offset);
                }
                Write(extra);
            }
        }
        long directorySize = Position - directoryStart;
        long zip64End = Position;

        Span<byte> end64 = stackalloc byte[56];
        BinaryPrimitives.WriteUInt32LittleEndian(end64, 0x06064B50);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[4..], 44);
        BinaryPrimitives.WriteUInt16LittleEndian(end64[12..], 0x031E);  // made by: Unix, 3.0 (as miniz)
        BinaryPrimitives.WriteUInt16LittleEndian(end64[14..], 0x002D);  // needed: 4.5 (zip64)
        BinaryPrimitives.WriteUInt32LittleEndian(end64[16..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(end64[20..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[24..], (ulong)_records.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[32..], (ulong)_records.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[40..], (ulong)directorySize);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[48..], (ulong)directoryStart);
        Write(end64);

        Span<byte> locator = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064B50);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(locator[8..], (ulong)zip64End);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
        Write(locator);

        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054B50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[4..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(end[6..], 0);
        ushort count16 = (ushort)Math.Min(_records.Count, 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], count16);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], count16);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], directorySize >= _zip64Threshold ? uint.MaxValue : (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], directoryStart >= _zip64OffsetThreshold ? uint.MaxValue : (uint)directoryStart);
        BinaryPrimitives.WriteUInt16LittleEndian(end[20..], 0);
        Write(end);
        _stream.Flush();
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        Position += bytes.Length;
    }

    private static void WriteU16(Stream s, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        s.Write(b);
    }

    private static void WriteU64(Stream s, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        s.Write(b);
    }

    private sealed record Record(byte[] Name, long Offset, long Size, uint Crc);
}
