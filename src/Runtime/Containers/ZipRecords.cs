using System.Buffers.Binary;
using System.Text;
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.Zip;

namespace StateDict.Containers;

/// <summary>
/// A zip archive's records, with every size and offset checked against the file: the central directory is read
/// with SharpZipLib (zip64 included) after its end records were validated; STORED records are read in place from
/// their absolute data offset; DEFLATED records are inflated only after their declared sizes were checked.
/// </summary>
internal sealed class ZipRecords : IDisposable
{
    // Deflate cannot expand data by more than about 1032:1; anything claiming more is a bomb.
    private const long MaxDeflateRatio = 1100;

    private readonly CheckpointFile _file;
    private readonly ZipFile _zip;
    private readonly Dictionary<string, ZipEntry> _entries;
    private readonly Lock _inflateLock = new();
    private readonly bool _byDirectory;

    private ZipRecords(CheckpointFile file, ZipFile zip, Dictionary<string, ZipEntry> entries, bool byDirectory)
    {
        _file = file;
        _zip = zip;
        _entries = entries;
        _byDirectory = byDirectory;
    }

    /// <summary>Record names in directory order.</summary>
    public IEnumerable<string> Names => _entries.Keys;

    /// <param name="file">The archive.</param>
    /// <param name="limits">The budgets (entry count).</param>
    /// <param name="byDirectory">
    /// Read each record where the central directory places it even when the local header there names another record,
    /// as PyTorch (miniz) does: the scanner must see what PyTorch would read. Readers keep the default and refuse.
    /// </param>
    public static ZipRecords Open(CheckpointFile file, CheckpointLimits limits, bool byDirectory = false)
    {
        ZipDirectory.Validate(file, limits);
        ZipFile? zip = null;
        try
        {
            zip = new ZipFile(file.Stream, leaveOpen: true);
            // Sized once (the count was bounded by ZipDirectory.Validate): growing it would allocate a large array per doubling.
            var entries = new Dictionary<string, ZipEntry>((int)zip.Count, StringComparer.Ordinal);
            foreach (ZipEntry entry in zip)
            {
                CheckName(file, entry.Name);
                if (!entries.TryAdd(entry.Name, entry))
                {
                    throw new CheckpointCorruptException(file.Path, $"zip archive has two entries named '{entry.Name}'");
                }
            }
            return new ZipRecords(file, zip, entries, byDirectory);
        }
        catch (Exception e) when (e is ZipException or IOException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
        {
            zip?.Close();
            throw new CheckpointCorruptException(file.Path, $"unreadable zip central directory: {e.Message}", e);
        }
        catch
        {
            zip?.Close();
            throw;
        }
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>The record's uncompressed size as the directory declares it.</summary>
    public long SizeOf(string name) => _entries[name].Size;

    public bool IsCompressed(string name) => _entries[name].CompressionMethod != CompressionMethod.Stored;

    /// <summary>Whether the record is encrypted (general-purpose flag bit 0): neither PyTorch nor StateDict can read it.</summary>
    public bool IsEncrypted(string name) => _entries[name].IsCrypted;

    /// <summary>Reads a whole small record (a pickle, a version string), refusing one larger than <paramref name="budget"/>.</summary>
    public byte[] ReadAll(string name, long budget, string budgetName)
    {
        var entry = Readable(name);
        if (entry.Size > budget)
        {
            throw new CheckpointCorruptException(_file.Path, $"{entry.Name} is {entry.Size} bytes, over the budget of {budget} ({budgetName})");
        }
        // Check the record against the file before allocating its declared size: one flipped bit in the directory's
        // size field would otherwise allocate up to the budget for a 4 KB file.
        if (entry.CompressionMethod == CompressionMethod.Stored && entry.Size != entry.CompressedSize)
        {
            throw new CheckpointCorruptException(_file.Path,
                $"record {entry.Name} is stored uncompressed, yet the central directory gives it {entry.Size} bytes and {entry.CompressedSize} stored bytes");
        }
        Locate(name);
        var bytes = new byte[entry.Size];
        Read(name, bytes);
        return bytes;
    }

    /// <summary>
    /// A whole small record to parse in place: STORED records are a view of the mapped file (no copy, no large
    /// allocation for a multi-megabyte data.pkl); DEFLATED ones are inflated as by <see cref="ReadAll"/>.
    /// </summary>
    public ReadOnlySpan<byte> View(string name, long budget, string budgetName)
    {
        var entry = Readable(name);
        if (entry.CompressionMethod != CompressionMethod.Stored || entry.Size > budget || entry.Size != entry.CompressedSize || entry.Size > int.MaxValue)
        {
            return ReadAll(name, budget, budgetName);
        }
        return _file.Peek(DataOffset(entry), (int)entry.Size, "record ", entry.Name);
    }

    /// <summary>
    /// The first bytes of a record, at most <paramref name="budget"/>, for sniffing what it holds: a view of the mapped
    /// file when STORED; a DEFLATED record is inflated whole, and only when it fits the budget (null otherwise).
    /// </summary>
    public ReadOnlySpan<byte> ViewPrefix(string name, long budget, string budgetName)
    {
        var entry = Readable(name);
        if (entry.CompressionMethod == CompressionMethod.Stored && entry.Size == entry.CompressedSize)
        {
            return _file.Peek(DataOffset(entry), (int)Math.Min(entry.Size, Math.Min(budget, int.MaxValue)), "record ", entry.Name);
        }
        return ReadAll(name, budget, budgetName);
    }

    /// <summary>Reads exactly <c>destination.Length</c> bytes of a record (its declared size).</summary>
    public void Read(string name, Span<byte> destination) => ReadEntry(Readable(name), destination);

    /// <summary>Where a STORED record's bytes start in the file (mappable); DEFLATED records are checked and get -1.</summary>
    public long Locate(string name)
    {
        var entry = Readable(name);
        if (entry.CompressionMethod == CompressionMethod.Stored)
        {
            return DataOffset(entry);
        }
        CheckCompressed(entry);
        return -1;
    }

    public void Dispose() => _zip.Close();

    private ZipEntry Readable(string name)
    {
        var entry = _entries[name];
        if (entry.IsCrypted)
        {
            throw new CheckpointFormatException(_file.Path,
                $"record {entry.Name} is encrypted (zip general-purpose flag bit 0); PyTorch cannot read encrypted records either");
        }
        return entry;
    }

    private void ReadEntry(ZipEntry entry, Span<byte> destination)
    {
        if (entry.CompressionMethod == CompressionMethod.Stored)
        {
            _file.ReadExactly(DataOffset(entry), destination, $"record {entry.Name}");
            return;
        }
        CheckCompressed(entry);
        lock (_inflateLock)
        {
            try
            {
                using var input = _zip.GetInputStream(entry);
                input.ReadExactly(destination);
                if (destination.Length == entry.Size && input.ReadByte() >= 0)
                {
                    throw new CheckpointCorruptException(_file.Path, $"record {entry.Name} inflates to more than its declared {entry.Size} bytes");
                }
            }
            // SharpZipLib's inflater reports a damaged deflate stream with its base SharpZipBaseException ("broken
            // uncompressed block"), and some bad Huffman code lengths with IndexOutOfRangeException: both would
            // otherwise escape ReadBytes untyped.
            catch (Exception e) when (e is SharpZipBaseException or IOException or InvalidDataException or ArgumentException or NotSupportedException or IndexOutOfRangeException)
            {
                string why = e is IndexOutOfRangeException ? "invalid deflate data (bad Huffman code lengths)" : e.Message;
                throw new CheckpointCorruptException(_file.Path, $"record {entry.Name} cannot be inflated: {why}", e);
            }
        }
    }

    private void CheckCompressed(ZipEntry entry)
    {
        if (entry.CompressionMethod != CompressionMethod.Deflated)
        {
            throw new CheckpointFormatException(_file.Path, $"record {entry.Name} uses zip compression method {(int)entry.CompressionMethod}; only STORED and DEFLATED are read");
        }
        if (entry.CompressedSize < 0 || entry.CompressedSize > _file.Length || entry.Size > Math.Max(1, entry.CompressedSize) * MaxDeflateRatio)
        {
            throw new CheckpointCorruptException(_file.Path,
                $"record {entry.Name} claims {entry.Size} bytes from {entry.CompressedSize} compressed bytes, beyond what deflate can produce (zip bomb?)");
        }
    }

    /// <summary>Absolute offset of an entry's data: local header offset + 30 + name length + extra length.</summary>
    private long DataOffset(ZipEntry entry)
    {
        // Through the mapping: a 20,000-record archive would otherwise cost 40,000 system calls here.
        var header = _file.Peek(entry.Offset, 30, "the local header of ", entry.Name);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != 0x04034b50)
        {
            throw new CheckpointCorruptException(_file.Path, $"the local header of {entry.Name} at byte {entry.Offset} has a bad signature");
        }
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        long offset = entry.Offset + 30 + nameLength + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        // The local header must name the same record: a directory entry pointing at another record's header
        // would otherwise hand out that record's bytes.
        var name = _file.Peek(entry.Offset + 30, nameLength, "the local header of ", entry.Name);
        if (!_byDirectory && !SameName(name, entry.Name) && StringCodec.Default.LegacyEncoding.GetString(name.ToArray()) != entry.Name)
        {
            string localName = Encoding.UTF8.GetString(name);
            throw new CheckpointCorruptException(_file.Path,
                $"the central directory places {entry.Name} at byte {entry.Offset}, but the local header there names '{localName}'");
        }
        if (entry.CompressedSize < 0 || offset > _file.Length || entry.CompressedSize > _file.Length - offset)
        {
            throw new CheckpointCorruptException(_file.Path,
                $"record {entry.Name} ({entry.CompressedSize} bytes at {offset}) runs past the end of the {_file.Length}-byte file (truncated?)");
        }
        return offset;
    }

    /// <summary>Compares a local header's name bytes with the directory's name without allocating for short names.</summary>
    private static bool SameName(ReadOnlySpan<byte> bytes, string name)
    {
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        Span<byte> encoded = max <= 512 ? stackalloc byte[max] : new byte[max];
        int length = Encoding.UTF8.GetBytes(name, encoded);
        return bytes.SequenceEqual(encoded[..length]);
    }

    private static void CheckName(CheckpointFile file, string name)
    {
        // A ".." segment, tested without splitting: a 20,000-record archive would otherwise allocate megabytes here.
        bool climbs = name == ".." || name.StartsWith("../", StringComparison.Ordinal) || name.EndsWith("/..", StringComparison.Ordinal)
            || name.Contains("/../", StringComparison.Ordinal);
        if (name.StartsWith('/') || name.Contains('\\') || name.Contains(':') || climbs)
        {
            throw new CheckpointCorruptException(file.Path, $"zip entry name '{name}' is absolute or climbs out of the archive");
        }
    }
}
