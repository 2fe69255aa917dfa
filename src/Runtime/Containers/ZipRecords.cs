using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Text;
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.Zip;
using ICSharpCode.SharpZipLib.Zip.Compression;
using ICSharpCode.SharpZipLib.Zip.Compression.Streams;

namespace StateDict.Containers;

/// <summary>
/// A zip archive's records, with every size and offset checked against the file: the central directory is read
/// from the file's mapping (<see cref="ZipCentralDirectory"/>, zip64 included) after its end records were validated;
/// STORED records are read in place from their absolute data offset; DEFLATED records are inflated (SharpZipLib's
/// inflater) only after their declared sizes were checked.
/// </summary>
internal sealed unsafe class ZipRecords : IDisposable
{
    // Deflate cannot expand data by more than about 1032:1; anything claiming more is a bomb.
    private const long MaxDeflateRatio = 1100;

    private readonly CheckpointFile _file;
    private readonly ZipCentralDirectory _directory;
    private readonly bool _byDirectory;

    private ZipRecords(CheckpointFile file, ZipCentralDirectory directory, bool byDirectory)
    {
        _file = file;
        _directory = directory;
        _byDirectory = byDirectory;
    }

    /// <summary>Record names in directory order (a string each: for listings, not for hot paths).</summary>
    public IEnumerable<string> Names
    {
        get
        {
            for (int i = 0; i < _directory.Count; i++)
            {
                yield return new string(_directory.NameOf(i));
            }
        }
    }

    /// <summary>How many records the directory lists.</summary>
    public int Count => _directory.Count;

    /// <summary>The name of record <paramref name="index"/> (directory order), without allocating.</summary>
    public ReadOnlySpan<char> NameOf(int index) => _directory.NameOf(index);

    /// <param name="file">The archive.</param>
    /// <param name="limits">The budgets (entry count).</param>
    /// <param name="byDirectory">
    /// Read each record where the central directory places it even when the local header there names another record,
    /// as PyTorch (miniz) does: the scanner must see what PyTorch would read. Readers keep the default and refuse.
    /// </param>
    public static ZipRecords Open(CheckpointFile file, CheckpointLimits limits, bool byDirectory = false) =>
        new(file, ZipCentralDirectory.Read(file, ZipDirectory.Validate(file, limits)), byDirectory);

    public bool Contains(string name) => _directory.IndexOf(name) >= 0;

    /// <summary>The index of the record named <paramref name="name"/> (directory order), or -1.</summary>
    public int IndexOf(ReadOnlySpan<char> name) => _directory.IndexOf(name);

    /// <summary>The record's uncompressed size as the directory declares it.</summary>
    public long SizeOf(string name) => Entry(name).Size;

    /// <summary>The uncompressed size of record <paramref name="index"/> as the directory declares it.</summary>
    public long SizeOf(int index) => _directory[index].Size;

    public bool IsCompressed(string name) => Entry(name).Method != (int)CompressionMethod.Stored;

    /// <summary>Whether the record is encrypted (general-purpose flag bit 0): neither PyTorch nor StateDict can read it.</summary>
    public bool IsEncrypted(string name) => Entry(name).IsEncrypted;

    /// <summary>Reads a whole small record (a pickle, a version string), refusing one larger than <paramref name="budget"/>.</summary>
    public byte[] ReadAll(string name, long budget, string budgetName) => ReadAll(Readable(name), budget, budgetName);

    private byte[] ReadAll(int index, long budget, string budgetName)
    {
        var entry = _directory[index];
        if (entry.Size > budget)
        {
            throw new CheckpointCorruptException(_file.Path, $"{Name(index)} is {entry.Size} bytes, over the budget of {budget} ({budgetName})");
        }
        // Check the record against the file before allocating its declared size: one flipped bit in the directory's
        // size field would otherwise allocate up to the budget for a 4 KB file.
        if (entry.Method == (int)CompressionMethod.Stored && entry.Size != entry.CompressedSize)
        {
            throw new CheckpointCorruptException(_file.Path,
                $"record {Name(index)} is stored uncompressed, yet the central directory gives it {entry.Size} bytes and {entry.CompressedSize} stored bytes");
        }
        Locate(index);
        var bytes = new byte[entry.Size];
        ReadEntry(index, bytes);
        return bytes;
    }

    /// <summary>
    /// A whole small record to parse in place: STORED records are a view of the mapped file (no copy, no large
    /// allocation for a multi-megabyte data.pkl); DEFLATED ones are inflated as by <see cref="ReadAll(string, long, string)"/>.
    /// </summary>
    public ReadOnlySpan<byte> View(string name, long budget, string budgetName)
    {
        int index = Readable(name);
        var entry = _directory[index];
        if (entry.Method != (int)CompressionMethod.Stored || entry.Size > budget || entry.Size != entry.CompressedSize || entry.Size > int.MaxValue)
        {
            return ReadAll(index, budget, budgetName);
        }
        return _file.Peek(DataOffset(index), (int)entry.Size, "record ", name);
    }

    /// <summary>
    /// The first bytes of a record, at most <paramref name="budget"/>, for sniffing what it holds: a view of the mapped
    /// file when STORED; a DEFLATED record is inflated whole, and only when it fits the budget (null otherwise).
    /// </summary>
    public ReadOnlySpan<byte> ViewPrefix(string name, long budget, string budgetName)
    {
        int index = Readable(name);
        var entry = _directory[index];
        if (entry.Method == (int)CompressionMethod.Stored && entry.Size == entry.CompressedSize)
        {
            return _file.Peek(DataOffset(index), (int)Math.Min(entry.Size, Math.Min(budget, int.MaxValue)), "record ", name);
        }
        return ReadAll(index, budget, budgetName);
    }

    /// <summary>Reads exactly <c>destination.Length</c> bytes of a record (its declared size).</summary>
    public void Read(string name, Span<byte> destination) => ReadEntry(Readable(name), destination);

    /// <summary>Where a STORED record's bytes start in the file (mappable); DEFLATED records are checked and get -1.</summary>
    public long Locate(string name) => Locate(Readable(name));

    /// <summary>As <see cref="Locate(string)"/>, by index (<see cref="IndexOf"/>): the hot path of a many-record archive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Locate(int index)
    {
        Readable(index);
        if (_directory[index].Method == (int)CompressionMethod.Stored)
        {
            return DataOffset(index);
        }
        CheckCompressed(index);
        return -1;
    }

    public void Dispose()
    {
        // Nothing to release: the directory is read from the file's mapping, which the file owns.
    }

    private ref readonly ZipRecord Entry(string name) => ref _directory[IndexOrThrow(name)];

    private int IndexOrThrow(string name)
    {
        int index = _directory.IndexOf(name);
        return index >= 0 ? index : throw new KeyNotFoundException($"{_file.Path}: no zip record '{name}'");
    }

    private string Name(int index) => new(_directory.NameOf(index));

    private int Readable(string name) => Readable(IndexOrThrow(name));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Readable(int index)
    {
        if (_directory[index].IsEncrypted)
        {
            throw new CheckpointFormatException(_file.Path,
                $"record {Name(index)} is encrypted (zip general-purpose flag bit 0); PyTorch cannot read encrypted records either");
        }
        return index;
    }

    private void ReadEntry(int index, Span<byte> destination)
    {
        var entry = _directory[index];
        if (entry.Method == (int)CompressionMethod.Stored)
        {
            _file.ReadExactly(DataOffset(index), destination, "record ", Name(index));
            return;
        }
        CheckCompressed(index);
        // As the zip library that read DEFLATED records before: signature and bounds checked, the local name not compared.
        long offset = DataOffset(index, compareNames: false);
        try
        {
            // SharpZipLib's inflater over the record's compressed bytes, in place in the mapping.
            using var compressed = new UnmanagedMemoryStream(_file.Map() + offset, entry.CompressedSize);
            using var input = new InflaterInputStream(compressed, new Inflater(noHeader: true));
            input.ReadExactly(destination);
            if (destination.Length == entry.Size && input.ReadByte() >= 0)
            {
                throw new CheckpointCorruptException(_file.Path, $"record {Name(index)} inflates to more than its declared {entry.Size} bytes");
            }
        }
        // SharpZipLib's inflater reports a damaged deflate stream with its base SharpZipBaseException ("broken
        // uncompressed block"), and some bad Huffman code lengths with IndexOutOfRangeException: both would
        // otherwise escape ReadBytes untyped.
        catch (Exception e) when (e is SharpZipBaseException or IOException or InvalidDataException or ArgumentException or NotSupportedException or IndexOutOfRangeException)
        {
            string why = e is IndexOutOfRangeException ? "invalid deflate data (bad Huffman code lengths)" : e.Message;
            throw new CheckpointCorruptException(_file.Path, $"record {Name(index)} cannot be inflated: {why}", e);
        }
    }

    private void CheckCompressed(int index)
    {
        var entry = _directory[index];
        if (entry.Method != (int)CompressionMethod.Deflated)
        {
            throw new CheckpointFormatException(_file.Path, $"record {Name(index)} uses zip compression method {entry.Method}; only STORED and DEFLATED are read");
        }
        if (entry.CompressedSize < 0 || entry.CompressedSize > _file.Length || entry.Size < 0 || entry.Size > Math.Max(1, entry.CompressedSize) * MaxDeflateRatio)
        {
            throw new CheckpointCorruptException(_file.Path,
                $"record {Name(index)} claims {entry.Size} bytes from {entry.CompressedSize} compressed bytes, beyond what deflate can produce (zip bomb?)");
        }
    }

    /// <summary>Absolute offset of an entry's data: local header offset + 30 + name length + extra length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long DataOffset(int index, bool compareNames = true)
    {
        var entry = _directory[index];
        // Through the mapping: a 20,000-record archive would otherwise cost 40,000 system calls here.
        var header = _file.Peek(entry.LocalHeaderOffset, 30, "the local header of ", Name(index, entry.LocalHeaderOffset, 30));
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != 0x04034b50)
        {
            throw new CheckpointCorruptException(_file.Path, $"the local header of {Name(index)} at byte {entry.LocalHeaderOffset} has a bad signature");
        }
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        long offset = entry.LocalHeaderOffset + 30 + nameLength + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        // The local header must name the same record: a directory entry pointing at another record's header
        // would otherwise hand out that record's bytes.
        var name = _file.Peek(entry.LocalHeaderOffset + 30, nameLength, "the local header of ", Name(index, entry.LocalHeaderOffset + 30, nameLength));
        if (compareNames && !_byDirectory && !SameName(name, index))
        {
            string localName = Encoding.UTF8.GetString(name);
            throw new CheckpointCorruptException(_file.Path,
                $"the central directory places {Name(index)} at byte {entry.LocalHeaderOffset}, but the local header there names '{localName}'");
        }
        if (entry.CompressedSize < 0 || offset > _file.Length || entry.CompressedSize > _file.Length - offset)
        {
            throw new CheckpointCorruptException(_file.Path,
                $"record {Name(index)} ({entry.CompressedSize} bytes at {offset}) runs past the end of the {_file.Length}-byte file (truncated?)");
        }
        return offset;
    }

    /// <summary>The record's name for a bounds message, built only when the bytes at <paramref name="offset"/> are out of the file.</summary>
    private string? Name(int index, long offset, int length) =>
        offset < 0 || length < 0 || offset > _file.Length - length ? Name(index) : null;

    /// <summary>
    /// Whether a local header's name bytes name record <paramref name="index"/>: the directory's own bytes, or bytes
    /// that decode (UTF-8, or the legacy code page) to the directory's name. Allocates nothing for ASCII names.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool SameName(ReadOnlySpan<byte> bytes, int index)
    {
        var entry = _directory[index];
        if (bytes.SequenceEqual(_file.Peek(entry.NameBytesOffset, entry.NameByteLength, "a central directory name")))
        {
            return true;
        }
        var name = _directory.NameOf(index);
        return Encoding.UTF8.GetString(bytes).AsSpan().SequenceEqual(name)
            || StringCodec.Default.LegacyEncoding.GetString(bytes).AsSpan().SequenceEqual(name);
    }
}
