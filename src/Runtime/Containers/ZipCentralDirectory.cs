using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using ICSharpCode.SharpZipLib.Zip;

namespace StateDict.Containers;

/// <summary>One central-directory entry: sizes and offsets (zip64 ones resolved), and where its name is.</summary>
internal readonly record struct ZipRecord(
    int NameStart, int NameLength, long NameBytesOffset, int NameByteLength, int Flags, int Method, long CompressedSize, long Size, long LocalHeaderOffset)
{
    /// <summary>General-purpose flag bit 0: the record is encrypted.</summary>
    public bool IsEncrypted => (Flags & 1) != 0;
}

/// <summary>
/// A zip's central directory, read straight from the file's mapping: one <see cref="ZipRecord"/> per entry, every
/// name decoded once into one shared character buffer (no string per record), and an open-addressing index by name
/// whose hash is the runtime's randomized string hash (crafted names cannot make lookups quadratic). A 20,000-record
/// torch archive costs three arrays here instead of 20,000 zip-library entry objects and their strings.
/// </summary>
internal sealed class ZipCentralDirectory
{
    private const uint CentralHeaderSignature = 0x02014b50;
    private const int CentralHeaderSize = 46;
    private const ushort Zip64ExtraTag = 0x0001;

    private readonly ZipRecord[] _records;
    private readonly char[] _names;
    private readonly int[] _buckets;

    private ZipCentralDirectory(ZipRecord[] records, char[] names, int[] buckets)
    {
        _records = records;
        _names = names;
        _buckets = buckets;
    }

    public int Count => _records.Length;

    public ref readonly ZipRecord this[int index] => ref _records[index];

    /// <summary>The decoded name of record <paramref name="index"/>, without allocating.</summary>
    public ReadOnlySpan<char> NameOf(int index) => _names.AsSpan(_records[index].NameStart, _records[index].NameLength);

    /// <summary>The record named <paramref name="name"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int IndexOf(ReadOnlySpan<char> name)
    {
        int mask = _buckets.Length - 1;
        for (int slot = string.GetHashCode(name) & mask; ; slot = (slot + 1) & mask)
        {
            int entry = _buckets[slot] - 1;
            if (entry < 0)
            {
                return -1;
            }
            if (NameOf(entry).SequenceEqual(name))
            {
                return entry;
            }
        }
    }

    /// <summary>
    /// Reads the <paramref name="location"/>'s entries (every one within the directory's bytes), decodes their names
    /// as zip readers do (UTF-8 under general-purpose flag bit 11, the legacy code page otherwise), and refuses
    /// duplicate names and names that are absolute or climb out of the archive.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ZipCentralDirectory Read(CheckpointFile file, ZipDirectoryLocation location)
    {
        var directory = location.Size == 0 ? [] : file.Peek(location.Offset, (int)Math.Min(location.Size, int.MaxValue), "the zip central directory");
        // The count was bounded by ZipDirectory.Validate (at most one entry per 46 directory bytes).
        var records = new ZipRecord[location.Entries];
        long nameBytes = 0;
        int at = 0;
        for (int i = 0; i < records.Length; i++)
        {
            records[i] = ReadEntry(file, directory, location.Offset, ref at, i);
            nameBytes += records[i].NameByteLength;
        }
        // Decoding never yields more characters than bytes (UTF-8, code pages), so the buffer is sized once.
        var names = new char[nameBytes];
        int used = 0;
        for (int i = 0; i < records.Length; i++)
        {
            var record = records[i];
            var bytes = directory.Slice((int)(record.NameBytesOffset - location.Offset), record.NameByteLength);
            int length = Decode(bytes, record.Flags, names.AsSpan(used));
            records[i] = record with { NameStart = used, NameLength = length };
            used += length;
        }
        var table = new ZipCentralDirectory(records, names, new int[BucketCount(records.Length)]);
        for (int i = 0; i < records.Length; i++)
        {
            table.Add(file, i);
        }
        return table;
    }

    private static int BucketCount(int entries)
    {
        int count = 16;
        while (count < entries * 2)
        {
            count <<= 1;
        }
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Add(CheckpointFile file, int index)
    {
        var name = NameOf(index);
        CheckName(file, name);
        int mask = _buckets.Length - 1;
        int slot = string.GetHashCode(name) & mask;
        while (_buckets[slot] != 0)
        {
            if (NameOf(_buckets[slot] - 1).SequenceEqual(name))
            {
                throw new CheckpointCorruptException(file.Path, $"zip archive has two entries named '{name}'");
            }
            slot = (slot + 1) & mask;
        }
        _buckets[slot] = index + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ZipRecord ReadEntry(CheckpointFile file, ReadOnlySpan<byte> directory, long directoryOffset, ref int at, int index)
    {
        if (directory.Length - at < CentralHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(directory[at..]) != CentralHeaderSignature)
        {
            throw Unreadable(file, $"entry {index} at byte {directoryOffset + at} is not a central directory header (wrong signature or past the directory's end)");
        }
        var header = directory.Slice(at, CentralHeaderSize);
        int versionToExtract = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        int flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        int method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        long compressedSize = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
        int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
        int variable = nameLength + extraLength + commentLength;
        if (directory.Length - at - CentralHeaderSize < variable)
        {
            throw Unreadable(file, $"entry {index} at byte {directoryOffset + at} runs past the directory's end");
        }
        long nameOffset = directoryOffset + at + CentralHeaderSize;
        var extra = directory.Slice(at + CentralHeaderSize + nameLength, extraLength);
        if (TryFindExtra(extra, Zip64ExtraTag, out var zip64))
        {
            // The zip64 extended information: only the fields whose classic value is 0xFFFFFFFF, in this order.
            if (zip64.Length < 4)
            {
                throw Unreadable(file, $"entry {index}: extra data extended Zip64 information length is invalid");
            }
            int field = 0;
            size = size == uint.MaxValue ? Zip64Field(file, zip64, ref field, index) : size;
            compressedSize = compressedSize == uint.MaxValue ? Zip64Field(file, zip64, ref field, index) : compressedSize;
            offset = offset == uint.MaxValue ? Zip64Field(file, zip64, ref field, index) : offset;
        }
        else if ((versionToExtract & 0xFF) >= ZipConstants.VersionZip64 && (size == uint.MaxValue || compressedSize == uint.MaxValue))
        {
            throw Unreadable(file, $"entry {index}: Zip64 extended information required but is missing");
        }
        at += CentralHeaderSize + variable;
        return new ZipRecord(0, 0, nameOffset, nameLength, flags, method, compressedSize, size, offset);
    }

    private static long Zip64Field(CheckpointFile file, ReadOnlySpan<byte> zip64, ref int field, int index)
    {
        if (zip64.Length - field < 8)
        {
            throw Unreadable(file, $"entry {index}: the Zip64 extended information ends before a field it must hold");
        }
        // A value past long.MaxValue reads negative here; every use checks it against the file.
        long value = BinaryPrimitives.ReadInt64LittleEndian(zip64[field..]);
        field += 8;
        return value;
    }

    /// <summary>The value of the first extra block tagged <paramref name="tag"/> that fits in the extra data, as zip readers find it.</summary>
    private static bool TryFindExtra(ReadOnlySpan<byte> extra, ushort tag, out ReadOnlySpan<byte> value)
    {
        value = default;
        int at = 0;
        while (at < extra.Length - 3)
        {
            int blockTag = BinaryPrimitives.ReadUInt16LittleEndian(extra[at..]);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[(at + 2)..]);
            at += 4;
            if (blockTag == tag)
            {
                if (length > extra.Length - at)
                {
                    return false;
                }
                value = extra.Slice(at, length);
                return true;
            }
            at += length;
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Decode(ReadOnlySpan<byte> bytes, int flags, Span<char> into)
    {
        // torch writes ASCII names: widened without a decoder (and validated as ASCII by the same call).
        if (System.Text.Ascii.ToUtf16(bytes, into, out int written) == System.Buffers.OperationStatus.Done)
        {
            return written;
        }
        Encoding encoding = StringCodec.Default.ZipInputEncoding(flags);
        return encoding.GetChars(bytes, into);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckName(CheckpointFile file, ReadOnlySpan<char> name)
    {
        // A ".." segment, tested without splitting.
        bool climbs = name.SequenceEqual("..") || name.StartsWith("../", StringComparison.Ordinal) || name.EndsWith("/..", StringComparison.Ordinal)
            || name.Contains("/../", StringComparison.Ordinal);
        if (name.StartsWith('/') || name.Contains('\\') || name.Contains(':') || climbs)
        {
            throw new CheckpointCorruptException(file.Path, $"zip entry name '{name}' is absolute or climbs out of the archive");
        }
    }

    private static CheckpointCorruptException Unreadable(CheckpointFile file, string problem) =>
        new(file.Path, $"unreadable zip central directory: {problem}");
}
