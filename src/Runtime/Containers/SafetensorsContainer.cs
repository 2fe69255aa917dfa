using System.Buffers.Binary;
using System.Collections.Immutable;
using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Containers;

/// <summary>
/// A safetensors file: a little-endian u64 header length N, N bytes of UTF-8 JSON naming each tensor's dtype, shape
/// and <c>data_offsets</c>, then the tensors' bytes, contiguous, row-major and little-endian. There is no pickle:
/// the header is the tensor table. Validated as the reference implementation (the safetensors crate's
/// <c>read_metadata</c> and <c>validate</c>, serde_json underneath) validates it: header cap, JSON whitespace allowed
/// before and after the object, offsets contiguous with no overlap or hole, shape × element size equal to each
/// tensor's bytes, nothing after the last tensor; tensor values are not checked (a BOOL byte may be any byte). Stricter
/// than the crate only where <see cref="SafetensorsHeader"/> says so. Every tensor is its own storage, keyed by its
/// name, so each can be memory-mapped in place.
/// </summary>
internal sealed class SafetensorsContainer : IContainer
{
    /// <summary>The reference's <c>MAX_HEADER_SIZE</c>.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly CheckpointFile _file;
    private readonly TorchTree _tree;
    private readonly Dictionary<string, StorageLocation> _locations;

    private SafetensorsContainer(CheckpointFile file, TorchTree tree, Dictionary<string, StorageLocation> locations, IReadOnlyDictionary<string, string> metadata)
    {
        _file = file;
        _tree = tree;
        _locations = locations;
        Metadata = metadata;
    }

    public CheckpointFormat Format => CheckpointFormat.Safetensors;

    public bool BigEndian => false;

    public IReadOnlyDictionary<string, string> Metadata { get; }

    PickleSource IContainer.MainSource => throw new InvalidOperationException("a safetensors file has no pickle");

    /// <summary>JSON's whitespace, which serde_json (and so the reference) skips before and after the header object.</summary>
    internal static ReadOnlySpan<byte> JsonWhitespace => " \t\n\r"u8;

    private static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Whether <paramref name="file"/> is safetensors by the reference's own first checks: a header length N of at most
    /// <see cref="MaxHeaderBytes"/> with 8 + N within the file, and a header whose first byte after JSON whitespace is
    /// '{'. Checked before every other signature: a valid header may put "ustar" at byte 257, and N may read
    /// <c>PK\x03\x04</c>.
    /// </summary>
    public static bool HasSignature(CheckpointFile file)
    {
        if (file.Length < 9)
        {
            return false;
        }
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file.Peek(0, 8, "the safetensors header length"));
        if (n > MaxHeaderBytes || (long)n > file.Length - 8)
        {
            return false;
        }
        var header = file.Peek(8, (int)n, "the safetensors header");
        int first = header.IndexOfAnyExcept(JsonWhitespace);
        return first >= 0 && header[first] == (byte)'{';
    }

    /// <summary>
    /// Whether the first bytes look like a damaged safetensors file, so that <see cref="Open"/> says what is wrong with
    /// it (a length over the cap or past the end, a byte-order mark) rather than "not a checkpoint": a '{' after the
    /// 8-byte length, JSON whitespace and an optional byte-order mark, and a first byte that cannot begin a pickle
    /// (which may well have a '{' at byte 8).
    /// </summary>
    public static bool LooksDamaged(ReadOnlySpan<byte> head)
    {
        if (head.Length < 9 || head[0] == (byte)PickleOpcode.Proto || ContainerDetector.MayStartUnframedPickle(head[0]))
        {
            return false;
        }
        var header = head[8..];
        header = header.StartsWith(ByteOrderMark) ? header[ByteOrderMark.Length..] : header;
        int first = header.IndexOfAnyExcept(JsonWhitespace);
        return first >= 0 && header[first] == (byte)'{';
    }

    public static SafetensorsContainer Open(CheckpointFile file, CheckpointLimits limits)
    {
        if (file.Length < 8)
        {
            throw new CheckpointCorruptException(file.Path, $"the file has {file.Length} bytes, too few for a safetensors header length (8 bytes)");
        }
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(file.Peek(0, 8, "the safetensors header length"));
        if (declared > MaxHeaderBytes)
        {
            throw new CheckpointCorruptException(file.Path,
                $"bytes 0..8: the safetensors header length is {declared} bytes, over the format's limit of {MaxHeaderBytes:N0} (header too large)");
        }
        long n = (long)declared;
        if (n > file.Length - 8)
        {
            throw new CheckpointCorruptException(file.Path,
                $"bytes 0..8: the safetensors header length is {n} bytes but only {file.Length - 8} follow (truncated?)");
        }
        var json = file.Peek(8, (int)n, "the safetensors header");
        if (json.StartsWith(ByteOrderMark))
        {
            throw new CheckpointCorruptException(file.Path,
                "bytes 8..11: the safetensors header starts with a UTF-8 byte-order mark (EF BB BF), which the reference's JSON parser refuses; remove those 3 bytes and subtract 3 from the header length");
        }
        var (entries, metadata) = SafetensorsHeader.Parse(json, file.Path, 8, limits);
        var dtypes = entries.Select(e => Lookup(file, e)).ToList();
        long dataStart = 8 + n;
        long dataEnd = CheckLayout(file, entries, dtypes, dataStart);
        if (dataEnd != file.Length)
        {
            throw new CheckpointCorruptException(file.Path, dataEnd < file.Length
                ? $"the tensors' data ends at byte {dataEnd} but the file goes on to byte {file.Length}: {file.Length - dataEnd} trailing bytes (refused, as the reference refuses them: they would make a polyglot file)"
                : $"the tensors' data ends at byte {dataEnd} but the file has {file.Length} bytes (truncated?)");
        }
        return Build(file, entries, dtypes, dataStart, metadata);
    }

    /// <summary>
    /// Sorted by offsets, each tensor must begin exactly where the previous one ended (from 0): no overlap (two names
    /// aliasing bytes), no hole (bytes no tensor owns); and its shape × element size, multiplied with overflow checks,
    /// must be its byte length. Returns the file offset where the data ends.
    /// </summary>
    private static long CheckLayout(CheckpointFile file, List<SafetensorsEntry> entries, List<(DType? DType, int Bits)> dtypes, long dataStart)
    {
        long end = 0;
        SafetensorsEntry? previous = null;
        foreach (int i in Enumerable.Range(0, entries.Count).OrderBy(i => entries[i].Begin).ThenBy(i => entries[i].End))
        {
            var entry = entries[i];
            if (entry.End < entry.Begin)
            {
                throw Corrupt(file, entry, $"data_offsets [{entry.Begin}, {entry.End}] end before they begin");
            }
            if (entry.Begin != end)
            {
                string after = previous is null ? "the start of the data" : $"tensor '{SafetensorsHeader.Shorten(previous.Name)}' (data_offsets [{previous.Begin}, {previous.End}])";
                throw Corrupt(file, entry, entry.Begin < end
                    ? $"data_offsets [{entry.Begin}, {entry.End}] overlap {after}; tensors must not share bytes"
                    : $"data_offsets [{entry.Begin}, {entry.End}] leave a hole after {after}: data bytes {end}..{entry.Begin} belong to no tensor");
            }
            CheckSize(file, entry, dtypes[i].Bits);
            if (entry.End > file.Length - dataStart)
            {
                throw Corrupt(file, entry,
                    $"data_offsets [{entry.Begin}, {entry.End}] reach file byte {dataStart + entry.End} but the file has {file.Length} bytes (out of bounds)");
            }
            end = entry.End;
            previous = entry;
        }
        return dataStart + end;
    }

    private static void CheckSize(CheckpointFile file, SafetensorsEntry entry, int bits)
    {
        string shape = $"shape [{string.Join(", ", entry.Shape)}] of {entry.DTypeCode}";
        long bitCount;
        try
        {
            long elements = 1;
            foreach (long dim in entry.Shape)
            {
                elements = checked(elements * dim);
            }
            bitCount = checked(elements * bits);
        }
        catch (OverflowException)
        {
            throw Corrupt(file, entry, $"{shape} overflows when multiplied out");
        }
        if (bitCount % 8 != 0)
        {
            throw Corrupt(file, entry, $"{shape} ({bits}-bit elements) does not end on a byte boundary");
        }
        if (entry.End - entry.Begin != bitCount / 8)
        {
            throw Corrupt(file, entry, $"data_offsets [{entry.Begin}, {entry.End}] hold {entry.End - entry.Begin} bytes but {shape} needs {bitCount / 8}");
        }
    }

    private static TensorInfo Tensor(CheckpointFile file, SafetensorsEntry entry, DType dtype, StorageRef storage)
    {
        var shape = ImmutableArray.Create(entry.Shape);
        int packed = dtype.PackedValues();
        if (packed > 1)
        {
            // Sub-byte values are packed whole elements per byte group (DType.Float4E2M1FNx2, Float6E2M3x4): the last
            // dimension counts elements, like torch.float4_e2m1fn_x2.
            if (shape.Length == 0 || (shape[^1] % packed != 0 && !shape.Contains(0)))
            {
                throw new CheckpointFormatException(file.Path,
                    $"safetensors header byte {entry.At}: unsupported: {entry.DTypeCode} tensor '{SafetensorsHeader.Shorten(entry.Name)}' of shape [{string.Join(", ", shape)}]: StateDict reads packed {entry.DTypeCode} values in groups of {packed} along the last dimension");
            }
            shape = shape.SetItem(shape.Length - 1, (shape[^1] + packed - 1) / packed); // an empty tensor may have any last dimension
        }
        var strides = new long[shape.Length];
        long step = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = step;
            step *= Math.Max(shape[d], 1); // torch's contiguous strides treat a 0-length dimension as 1
        }
        return new TensorInfo(entry.Name, dtype, shape, ImmutableArray.Create(strides), 0, storage.Size, isParameter: false,
            new StorageSlice(storage, 0, null));
    }

    private static SafetensorsContainer Build(CheckpointFile file, List<SafetensorsEntry> entries, List<(DType? DType, int Bits)> dtypes, long dataStart, Dictionary<string, string> metadata)
    {
        var tensors = new List<TensorInfo>(entries.Count);
        var declarations = new List<StorageDecl>(entries.Count);
        var locations = new Dictionary<string, StorageLocation>(entries.Count, StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (dtypes[i].DType is not DType dtype)
            {
                throw new CheckpointFormatException(file.Path,
                    $"safetensors header byte {entry.At}: tensor '{SafetensorsHeader.Shorten(entry.Name)}' has dtype {entry.DTypeCode}, which is not supported yet");
            }
            long length = entry.End - entry.Begin;
            var storage = new StorageRef(entry.Name, dtype, length / dtype.ElementSize(), untyped: false, entry.At);
            tensors.Add(Tensor(file, entry, dtype, storage));
            declarations.Add(new StorageDecl(entry.Name, length, dtype.ElementSize(), entry.At));
            locations.Add(entry.Name, new StorageLocation(entry.Name, $"safetensors tensor '{SafetensorsHeader.Shorten(entry.Name)}'", dataStart + entry.Begin, length, Compressed: false));
        }
        var tree = new TorchTree(tensors, [], declarations);
        return new SafetensorsContainer(file, tree, locations, new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(metadata));
    }

    /// <summary>Every dtype of the format, with its size in bits; null for those StateDict has no element type for.</summary>
    private static (DType? DType, int Bits) Lookup(CheckpointFile file, SafetensorsEntry entry) => entry.DTypeCode switch
    {
        "BOOL" => (DType.Bool, 8),
        "U8" => (DType.UInt8, 8),
        "I8" => (DType.Int8, 8),
        "F8_E5M2" => (DType.Float8E5M2, 8),
        "F8_E4M3" => (DType.Float8E4M3FN, 8),
        "I16" => (DType.Int16, 16),
        "U16" => (DType.UInt16, 16),
        "F16" => (DType.Float16, 16),
        "BF16" => (DType.BFloat16, 16),
        "I32" => (DType.Int32, 32),
        "U32" => (DType.UInt32, 32),
        "F32" => (DType.Float32, 32),
        "C64" => (DType.Complex64, 64),
        "F64" => (DType.Float64, 64),
        "I64" => (DType.Int64, 64),
        "U64" => (DType.UInt64, 64),
        "F4" => (DType.Float4E2M1FNx2, 4),
        "F6_E2M3" => (DType.Float6E2M3x4, 6),
        "F6_E3M2" => (DType.Float6E3M2x4, 6),
        "F8_E8M0" => (DType.Float8E8M0FNU, 8),
        "F8_E4M3FNUZ" => (DType.Float8E4M3FNUZ, 8),
        "F8_E5M2FNUZ" => (DType.Float8E5M2FNUZ, 8),
        _ => throw Corrupt(file, entry, $"dtype '{SafetensorsHeader.Shorten(entry.DTypeCode)}' is not a safetensors dtype"),
    };

    private static CheckpointCorruptException Corrupt(CheckpointFile file, SafetensorsEntry entry, string problem) =>
        new(file.Path, $"safetensors header byte {entry.At}: tensor '{SafetensorsHeader.Shorten(entry.Name)}': {problem}");

    public TorchTree ReadTree(CheckpointLimits limits) => _tree;

    public IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages) =>
        storages.ToDictionary(s => s.Key, s => _locations[s.Key], StringComparer.Ordinal);

    public void ReadStorage(StorageLocation location, long start, Span<byte> destination) =>
        _file.ReadExactly(location.Offset + start, destination, location.Record);

    public void Dispose()
    {
        // The file belongs to the checkpoint.
    }
}
