using System.Buffers.Binary;
using System.Text;
using ICSharpCode.SharpZipLib.Zip;
using StateDict.Pickle;

namespace StateDict.Containers;

/// <summary>
/// <c>torch.save</c>'s zip format: <c>PREFIX/data.pkl</c> plus <c>PREFIX/data/KEY</c> per storage, where PREFIX is
/// whatever folder name the writer chose. Entries are STORED and 64-byte aligned, so each storage's absolute
/// data offset is computed from its local header; DEFLATED entries are still read, with their sizes checked first.
/// </summary>
internal sealed class ZipContainer : IContainer
{
    // Deflate cannot expand data by more than about 1032:1; anything claiming more is a bomb.
    private const long MaxDeflateRatio = 1100;

    private readonly CheckpointFile _file;
    private readonly ZipFile _zip;
    private readonly Dictionary<string, ZipEntry> _entries;
    private readonly string _prefix;
    private readonly Lock _inflateLock = new();

    private ZipContainer(CheckpointFile file, ZipFile zip, Dictionary<string, ZipEntry> entries, string prefix, CheckpointLimits limits)
    {
        _file = file;
        _zip = zip;
        _entries = entries;
        _prefix = prefix;
        BigEndian = ReadByteOrder();
        var pickleEntry = entries[prefix + "data.pkl"];
        if (pickleEntry.Size > limits.MaxPickleBytes)
        {
            throw new CheckpointCorruptException(file.Path,
                $"{pickleEntry.Name} is {pickleEntry.Size} bytes, over the budget of {limits.MaxPickleBytes} (CheckpointLimits.MaxPickleBytes)");
        }
        var pickle = new byte[pickleEntry.Size];
        ReadEntry(pickleEntry, pickle);
        MainSource = new PickleSource(file.Path, pickleEntry.Name);
        MainPickle = PickleMachine.Run(pickle, MainSource, limits);
    }

    public CheckpointFormat Format => CheckpointFormat.Zip;

    public PickleResult MainPickle { get; }

    public PickleSource MainSource { get; }

    public bool BigEndian { get; }

    public static ZipContainer Open(CheckpointFile file, CheckpointLimits limits)
    {
        ZipDirectory.Validate(file, limits);
        ZipFile zip;
        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        try
        {
            zip = new ZipFile(file.Stream, leaveOpen: true);
            foreach (ZipEntry entry in zip)
            {
                CheckName(file, entry.Name);
                if (!entries.TryAdd(entry.Name, entry))
                {
                    throw new CheckpointCorruptException(file.Path, $"zip archive has two entries named '{entry.Name}'");
                }
            }
        }
        catch (Exception e) when (e is ZipException or IOException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
        {
            throw new CheckpointCorruptException(file.Path, $"unreadable zip central directory: {e.Message}", e);
        }

        var pickles = entries.Keys.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length).ToList();
        if (pickles.Count != 1)
        {
            zip.Close();
            throw new CheckpointFormatException(file.Path, pickles.Count == 0
                ? "zip archive has no PREFIX/data.pkl record: not a torch.save checkpoint"
                : $"zip archive has {pickles.Count} data.pkl records ({string.Join(", ", pickles)}); expected one");
        }
        string prefix = pickles[0][..^"data.pkl".Length];
        if (entries.ContainsKey(prefix + "constants.pkl"))
        {
            zip.Close();
            throw new CheckpointFormatException(file.Path, "this is a TorchScript archive (torch.jit.save); reading TorchScript files is not supported yet. Save the weights with torch.save(model.state_dict(), path) instead.");
        }
        try
        {
            return new ZipContainer(file, zip, entries, prefix, limits);
        }
        catch
        {
            zip.Close();
            throw;
        }
    }

    public IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages)
    {
        var located = new Dictionary<string, StorageLocation>(storages.Count, StringComparer.Ordinal);
        foreach (var storage in storages)
        {
            string name = _prefix + "data/" + storage.Key;
            if (!_entries.TryGetValue(name, out var entry))
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"storage '{storage.Key}' (declared at {MainSource.Part} byte {storage.PickleOffset}) has no record {name} in the archive");
            }
            if (entry.Size != storage.ByteLength)
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"storage '{storage.Key}' needs {storage.ByteLength} bytes but record {name} holds {entry.Size}");
            }
            bool compressed = entry.CompressionMethod != CompressionMethod.Stored;
            long offset = compressed ? -1 : DataOffset(entry);
            if (compressed)
            {
                CheckCompressed(entry);
            }
            located.Add(storage.Key, new StorageLocation(storage.Key, name, offset, entry.Size, compressed));
        }
        return located;
    }

    public void ReadStorage(StorageLocation location, Span<byte> destination) => ReadEntry(_entries[location.Record], destination);

    public void Dispose() => _zip.Close();

    private bool ReadByteOrder()
    {
        if (!_entries.TryGetValue(_prefix + "byteorder", out var entry))
        {
            return false; // PyTorch < 2.1 wrote no record; its files are little-endian.
        }
        if (entry.Size is < 1 or > 16)
        {
            throw new CheckpointCorruptException(_file.Path, $"{entry.Name} record has {entry.Size} bytes; expected 'little' or 'big'");
        }
        var text = new byte[entry.Size];
        ReadEntry(entry, text);
        return Encoding.ASCII.GetString(text).Trim() switch
        {
            "little" => false,
            "big" => true,
            var other => throw new CheckpointCorruptException(_file.Path, $"{entry.Name} record says '{other}'; expected 'little' or 'big'"),
        };
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
                if (input.ReadByte() >= 0)
                {
                    throw new CheckpointCorruptException(_file.Path, $"record {entry.Name} inflates to more than its declared {entry.Size} bytes");
                }
            }
            catch (Exception e) when (e is ZipException or IOException or InvalidDataException or ArgumentException or NotSupportedException)
            {
                throw new CheckpointCorruptException(_file.Path, $"record {entry.Name} cannot be inflated: {e.Message}", e);
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
        Span<byte> header = stackalloc byte[30];
        _file.ReadExactly(entry.Offset, header, $"the local header of {entry.Name}");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != 0x04034b50)
        {
            throw new CheckpointCorruptException(_file.Path, $"the local header of {entry.Name} at byte {entry.Offset} has a bad signature");
        }
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        long offset = entry.Offset + 30 + nameLength + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        // The local header must name the same record: a directory entry pointing at another record's header
        // would otherwise hand out that record's bytes.
        var name = new byte[nameLength];
        _file.ReadExactly(entry.Offset + 30, name, $"the local header of {entry.Name}");
        string localName = Encoding.UTF8.GetString(name);
        if (localName != entry.Name && StringCodec.Default.LegacyEncoding.GetString(name) != entry.Name)
        {
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

    private static void CheckName(CheckpointFile file, string name)
    {
        if (name.StartsWith('/') || name.Contains('\\') || name.Contains(':') || name.Split('/').Contains(".."))
        {
            throw new CheckpointCorruptException(file.Path, $"zip entry name '{name}' is absolute or climbs out of the archive");
        }
    }
}
