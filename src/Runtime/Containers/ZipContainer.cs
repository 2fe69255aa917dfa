using System.Runtime.CompilerServices;
using System.Text;
using StateDict.Pickle;

namespace StateDict.Containers;

/// <summary>
/// <c>torch.save</c>'s zip format: <c>PREFIX/data.pkl</c> plus <c>PREFIX/data/KEY</c> per storage, where PREFIX is
/// whatever folder name the writer chose. Entries are STORED and 64-byte aligned, so each storage's absolute
/// data offset is computed from its local header; DEFLATED entries are still read, with their sizes checked first.
/// A TorchScript archive (<c>torch.jit.save</c>: the same layout plus <c>constants.pkl</c> and <c>code/</c>) is read
/// the same way, from its <c>data.pkl</c> module tree; its code is never read.
/// </summary>
internal sealed class ZipContainer : IContainer
{
    private readonly CheckpointFile _file;
    private readonly ZipRecords _records;
    private readonly string _prefix;
    private readonly string _dataRecord;
    private readonly MainPickle _pickle;

    private ZipContainer(CheckpointFile file, ZipRecords records, string prefix, CheckpointLimits limits)
    {
        _file = file;
        _records = records;
        _prefix = prefix;
        _dataRecord = "record " + prefix + "data/";
        // torch.load tells TorchScript archives apart the same way (_is_torchscript_zip).
        Format = records.Contains(prefix + "constants.pkl") ? CheckpointFormat.TorchScript : CheckpointFormat.Zip;
        BigEndian = ReadByteOrder();
        MainSource = new PickleSource(file.Path, prefix + "data.pkl");
        _pickle = new MainPickle(PickleMachine.Run(records.View(prefix + "data.pkl", limits.MaxPickleBytes, "CheckpointLimits.MaxPickleBytes"), MainSource, limits, refused: new Torch.ReadPolicy(Format).Refuses), MainSource);
        RefuseRecordsOutsideTheFolder();
    }

    public CheckpointFormat Format { get; }

    public PickleSource MainSource { get; }

    public bool BigEndian { get; }

    public static ZipContainer Open(CheckpointFile file, CheckpointLimits limits)
    {
        var records = ZipRecords.Open(file, limits);
        try
        {
            return new ZipContainer(file, records, FindPrefix(file, records), limits);
        }
        catch
        {
            records.Dispose();
            throw;
        }
    }

    /// <summary>The folder that holds data.pkl ("archive/", the file stem, anything the writer chose).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static string FindPrefix(CheckpointFile file, ZipRecords records)
    {
        var pickles = new List<string>();
        for (int i = 0; i < records.Count; i++)
        {
            var name = records.NameOf(i);
            if (name.EndsWith("/data.pkl", StringComparison.Ordinal) && name.IndexOf('/') == name.Length - "/data.pkl".Length)
            {
                pickles.Add(new string(name));
            }
        }
        if (pickles.Count != 1)
        {
            throw new CheckpointFormatException(file.Path, pickles.Count == 0
                ? "zip archive has no PREFIX/data.pkl record: not a torch.save checkpoint"
                : $"zip archive has {pickles.Count} data.pkl records ({string.Join(", ", pickles)}); expected one");
        }
        return pickles[0][..^"data.pkl".Length];
    }

    /// <summary>
    /// PyTorch's reader takes its folder from the first record and refuses any record outside it (getAllRecords:
    /// "file in archive is not in a subdirectory"); a pickle there would otherwise go unread here yet be a risk there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RefuseRecordsOutsideTheFolder()
    {
        for (int i = 0; i < _records.Count; i++)
        {
            if (!_records.NameOf(i).StartsWith(_prefix, StringComparison.Ordinal))
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"record '{_records.NameOf(i)}' is outside the archive folder '{_prefix}' that holds data.pkl; PyTorch refuses such archives (\"file in archive is not in a subdirectory\")");
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages)
    {
        var located = new Dictionary<string, StorageLocation>(storages.Count, StringComparer.Ordinal);
        // Each record name built in one reused buffer, looked up without a string: only the located ones get theirs.
        var name = new char[_prefix.Length + "data/".Length + 32];
        _prefix.CopyTo(name);
        "data/".CopyTo(name.AsSpan(_prefix.Length));
        int keyStart = _prefix.Length + "data/".Length;
        string dataFolder = _prefix + "data/";
        var spans = new List<(long Offset, long Length, string Key)>(storages.Count);
        foreach (var storage in storages)
        {
            if (keyStart + storage.Key.Length > name.Length)
            {
                Array.Resize(ref name, keyStart + storage.Key.Length);
            }
            storage.Key.CopyTo(name.AsSpan(keyStart));
            int index = _records.IndexOf(name.AsSpan(0, keyStart + storage.Key.Length));
            if (index < 0)
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"storage '{storage.Key}' (declared at {MainSource.Part} byte {storage.PickleOffset}) has no record {_prefix}data/{storage.Key} in the archive");
            }
            long size = _records.SizeOf(index);
            if (size != storage.ByteLength)
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"storage '{storage.Key}' needs {storage.ByteLength} bytes but record {_prefix}data/{storage.Key} holds {size}");
            }
            long offset = _records.Locate(index);
            var location = StorageLocation.InFolder(dataFolder, storage.Key, offset, size, compressed: offset < 0);
            located.Add(storage.Key, location);
            if (offset >= 0 && size > 0)
            {
                spans.Add((offset, size, storage.Key));
            }
        }
        CheckNoOverlap(spans);
        return located;
    }

    /// <summary>Two storages whose bytes overlap in the file would alias memory that torch keeps separate: refuse.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckNoOverlap(List<(long Offset, long Length, string Key)> spans)
    {
        // Sorted as offsets with indices alongside (torch.save writes records in key-string order, not pickle order):
        // a sort keyed by a primitive, which a process's first open does not have to compile for a tuple type.
        var offsets = new long[spans.Count];
        var order = new int[spans.Count];
        for (int i = 0; i < spans.Count; i++)
        {
            offsets[i] = spans[i].Offset;
            order[i] = i;
        }
        Array.Sort(offsets, order);
        for (int i = 1; i < order.Length; i++)
        {
            var (previous, location) = (spans[order[i - 1]], spans[order[i]]);
            if (location.Offset < previous.Offset + previous.Length)
            {
                throw new CheckpointCorruptException(_file.Path,
                    $"records {_prefix}data/{previous.Key} (bytes {previous.Offset}..{previous.Offset + previous.Length}) and {_prefix}data/{location.Key} (from byte {location.Offset}) overlap");
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ReadStorage(StorageLocation location, long start, Span<byte> destination)
    {
        if (!location.Compressed)
        {
            // The record's name only in a message: every location this container made is PREFIX/data/KEY.
            _file.ReadExactly(location.Offset + start, destination, _dataRecord, location.Key);
        }
        else if (start == 0)
        {
            _records.Read(location.Record, destination);
        }
        else
        {
            throw new CheckpointFormatException(_file.Path, $"record {location.Record} is compressed and larger than 2 GiB; re-save it uncompressed (torch.save)");
        }
    }

    public Torch.TorchTree ReadTree(CheckpointLimits limits) => _pickle.ReadTree(limits, new Torch.ReadPolicy(Format));

    public Torch.TorchTree ReadTreeAllowingModulePickles(CheckpointLimits limits) =>
        _pickle.ReadTree(limits, new Torch.ReadPolicy(Format, AllowModulePickles: true));

    public void Dispose() => _records.Dispose();

    private bool ReadByteOrder()
    {
        string name = _prefix + "byteorder";
        if (!_records.Contains(name))
        {
            return false; // PyTorch < 2.1 wrote no record; its files are little-endian.
        }
        string text = Encoding.ASCII.GetString(_records.ReadAll(name, 16, "a byteorder record of at most 16 bytes")).Trim();
        return text switch
        {
            "little" => false,
            "big" => true,
            _ => throw new CheckpointCorruptException(_file.Path, $"{name} record says '{text}'; expected 'little' or 'big'"),
        };
    }
}
