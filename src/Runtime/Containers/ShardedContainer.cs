using System.Collections.ObjectModel;
using System.Text.Json;
using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Containers;

/// <summary>
/// A sharded checkpoint: an index (<c>model.safetensors.index.json</c>, <c>pytorch_model.bin.index.json</c>) whose
/// <c>weight_map</c> names, for every key, the shard file holding it, and the shards themselves (safetensors files or
/// <c>torch.save</c> checkpoints), opened with their own containers as one checkpoint. Shard paths must stay inside
/// the index's folder (checked on the names, so the symlinks of a Hugging Face cache still work). The index and the
/// shards must agree: every key of the weight map is in its shard, every key of a shard is in the weight map under that
/// shard. Tensors are listed shard by shard (shards in ordinal order of their names, which is their number for
/// <c>model-00001-of-00003</c> names), each shard's in its own order; storage keys are <c>SHARD:KEY</c>.
/// </summary>
internal sealed class ShardedContainer : IContainer
{
    /// <summary>Largest index read, in bytes (the same cap as a safetensors header).</summary>
    public const long MaxIndexBytes = 100_000_000;

    private readonly CheckpointFile _index;
    private readonly Dictionary<string, (string Shard, long At)> _weightMap;
    private readonly List<Shard> _shards;
    private readonly Dictionary<string, (Shard Shard, StorageLocation? Inner)> _storages = new(StringComparer.Ordinal);

    private ShardedContainer(CheckpointFile index, Dictionary<string, (string, long)> weightMap, List<Shard> shards, IReadOnlyDictionary<string, string> metadata)
    {
        _index = index;
        _weightMap = weightMap;
        _shards = shards;
        Metadata = metadata;
        var orders = shards.Select(s => s.Container.BigEndian).Distinct().ToList();
        if (orders.Count > 1)
        {
            throw new CheckpointFormatException(index.Path,
                $"the shards mix byte orders: {string.Join(", ", shards.Where(s => s.Container.BigEndian).Select(s => s.Name))} big-endian, the others little-endian");
        }
        BigEndian = orders is [true];
    }

    private sealed record Shard(string Name, CheckpointFile File, IContainer Container);

    public CheckpointFormat Format => CheckpointFormat.Sharded;

    public bool BigEndian { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    PickleSource IContainer.MainSource => throw new InvalidOperationException("a sharded index has no pickle");

    /// <summary>Whether the first bytes look like a JSON object (the index); the full check is <see cref="Open"/>'s.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> head)
    {
        head = head.StartsWith(Bom) ? head[Bom.Length..] : head;
        int first = head.IndexOfAnyExcept(" \t\r\n"u8);
        return first >= 0 && head[first] == (byte)'{';
    }

    public static ShardedContainer Open(CheckpointFile index, CheckpointLimits limits)
    {
        if (index.Length > MaxIndexBytes)
        {
            throw new CheckpointFormatException(index.Path, $"a JSON file of {index.Length} bytes: over the {MaxIndexBytes:N0}-byte limit for a sharded checkpoint index");
        }
        var (weightMap, metadata) = ReadIndex(index, limits);
        string folder = Folder(index);
        var firstMention = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (shard, at) in weightMap.Values)
        {
            firstMention.TryAdd(shard, at);
        }
        var shards = new List<Shard>(firstMention.Count);
        try
        {
            foreach (var (name, at) in firstMention.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var file = new CheckpointFile(ShardPath(index, folder, name, at));
                try
                {
                    shards.Add(new Shard(name, file, OpenShard(index, file, limits)));
                }
                catch
                {
                    file.Dispose();
                    throw;
                }
            }
            return new ShardedContainer(index, weightMap, shards, metadata);
        }
        catch
        {
            Dispose(shards);
            throw;
        }
    }

    /// <summary>The shard files an index names (checked like <see cref="Open"/> does), in name order, without opening them.</summary>
    public static IReadOnlyList<string> ShardPaths(CheckpointFile index, CheckpointLimits limits)
    {
        if (index.Length > MaxIndexBytes)
        {
            throw new CheckpointFormatException(index.Path, $"a JSON file of {index.Length} bytes: over the {MaxIndexBytes:N0}-byte limit for a sharded checkpoint index");
        }
        var (weightMap, _) = ReadIndex(index, limits);
        string folder = Folder(index);
        return weightMap.Values.GroupBy(v => v.Shard).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => ShardPath(index, folder, g.Key, g.First().At)).ToList();
    }

    /// <summary>The index's folder, where its shards are; an index read from memory has none, so its shards cannot be found.</summary>
    private static string Folder(CheckpointFile index) =>
        index.InMemory
            ? throw new CheckpointFormatException(index.Path, "a sharded checkpoint index read from memory or a stream cannot open its shards; open the index file (or its folder) by path")
            : System.IO.Path.GetDirectoryName(index.Path) ?? "";

    /// <summary>
    /// A shard name of the weight map as a path next to the index: refused when absolute or when any segment is
    /// <c>..</c>, so that an index can only name files in its own folder (or below it).
    /// </summary>
    private static string ShardPath(CheckpointFile index, string folder, string name, long at)
    {
        string problem = name.Length == 0 ? "is empty"
            : name.Contains('\0', StringComparison.Ordinal) ? "contains a NUL character"
            : System.IO.Path.IsPathRooted(name) || name[0] is '/' or '\\' || (name.Length >= 2 && name[1] == ':') ? "is an absolute path"
            : name.Split('/', '\\').Contains("..") ? "climbs out with '..'"
            : "";
        if (problem.Length == 0)
        {
            string root = System.IO.Path.GetFullPath(folder.Length == 0 ? "." : folder);
            string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, name));
            if (!full.StartsWith(System.IO.Path.TrimEndingDirectorySeparator(root) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                problem = "resolves outside the index's folder";
            }
        }
        if (problem.Length > 0)
        {
            throw new CheckpointCorruptException(index.Path,
                $"index byte {at}: refused: the shard path '{SafetensorsHeader.Shorten(name)}' {problem}; shards must be files in the index's folder");
        }
        return System.IO.Path.Combine(folder, name);
    }

    /// <summary>A shard is a torch.save checkpoint or a safetensors file; never another index (no nesting, no cycles).</summary>
    private static IContainer OpenShard(CheckpointFile index, CheckpointFile shard, CheckpointLimits limits)
    {
        Span<byte> head = stackalloc byte[16];
        head = head[..(int)Math.Min(head.Length, shard.Length)];
        shard.ReadExactly(0, head, "the file header");
        if (SafetensorsContainer.HasSignature(shard) || SafetensorsContainer.LooksDamaged(head))
        {
            return SafetensorsContainer.Open(shard, limits);
        }
        if (head.StartsWith("PK\x03\x04"u8))
        {
            return ZipContainer.Open(shard, limits);
        }
        if (head.StartsWith(LegacyContainer.Signature))
        {
            return LegacyContainer.Open(shard, limits);
        }
        throw new CheckpointFormatException(shard.Path,
            $"a shard of {index.Path} must be a safetensors file or a torch.save checkpoint, and this is neither");
    }

    /// <summary>
    /// Reads the index: <c>{"metadata": {...}, "weight_map": {"key": "shard file", ...}}</c>. Other top-level fields are
    /// ignored; metadata values that are not strings are kept as their JSON text (<c>"total_size": 2704</c> gives "2704").
    /// </summary>
    private static (Dictionary<string, (string Shard, long At)>, IReadOnlyDictionary<string, string>) ReadIndex(CheckpointFile index, CheckpointLimits limits)
    {
        var json = index.Peek(0, (int)index.Length, "the index");
        int start = json.StartsWith(Bom) ? Bom.Length : 0; // a UTF-8 byte order mark, as some Windows editors write
        json = json[start..];
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new CheckpointFormatException(index.Path, "not a checkpoint: a text file that is not UTF-8 JSON");
        }
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        Dictionary<string, (string, long)>? weightMap = null;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw NotAnIndex(index, "its JSON is not an object");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                long at = start + reader.TokenStartIndex;
                switch (reader.GetString())
                {
                    case "weight_map" when weightMap is null:
                        weightMap = ReadWeightMap(index, ref reader, start, limits);
                        break;
                    case "metadata" when !sawMetadata:
                        sawMetadata = true;
                        ReadMetadata(index, ref reader, metadata);
                        break;
                    case "weight_map" or "metadata":
                        throw new CheckpointCorruptException(index.Path, $"index byte {at}: the field '{reader.GetString()}' appears twice");
                    default:
                        reader.Skip();
                        break;
                }
            }
            while (reader.Read())
            {
                // The reader throws on anything but whitespace after the object.
            }
        }
        catch (JsonException e)
        {
            if (weightMap is null)
            {
                throw NotAnIndex(index, $"it is not valid JSON ({e.Message})");
            }
            throw new CheckpointCorruptException(index.Path, $"the sharded checkpoint index is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // GetString on an escaped lone surrogate ("\ud800"): no safetensors name can hold one.
            throw new CheckpointCorruptException(index.Path, $"the sharded checkpoint index holds a string that escapes a lone UTF-16 surrogate: {e.Message}", e);
        }
        if (weightMap is null)
        {
            throw NotAnIndex(index, "its JSON object has no weight_map");
        }
        return (weightMap, new ReadOnlyDictionary<string, string>(metadata));
    }

    private static Dictionary<string, (string, long)> ReadWeightMap(CheckpointFile index, ref Utf8JsonReader reader, int start, CheckpointLimits limits)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw NotAnIndex(index, "its weight_map is not an object");
        }
        var map = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            long at = start + reader.TokenStartIndex;
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new CheckpointCorruptException(index.Path, $"index byte {at}: weight_map maps '{SafetensorsHeader.Shorten(key)}' to a {reader.TokenType}, not a shard file name");
            }
            if (map.Count >= limits.MaxEntries)
            {
                throw new CheckpointCorruptException(index.Path, $"index byte {at}: weight_map has more than {limits.MaxEntries} keys (CheckpointLimits.MaxEntries)");
            }
            if (!map.TryAdd(key, (reader.GetString()!, start + reader.TokenStartIndex)))
            {
                throw new CheckpointCorruptException(index.Path, $"index byte {at}: weight_map lists '{SafetensorsHeader.Shorten(key)}' twice");
            }
        }
        return map;
    }

    private static void ReadMetadata(CheckpointFile index, ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointCorruptException(index.Path, $"the index's metadata is a {document.RootElement.ValueKind}, not an object");
        }
        foreach (var property in document.RootElement.EnumerateObject())
        {
            string value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            if (!metadata.TryAdd(property.Name, value))
            {
                throw new CheckpointCorruptException(index.Path, $"the index's metadata has the key '{SafetensorsHeader.Shorten(property.Name)}' twice");
            }
        }
    }

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    private static CheckpointFormatException NotAnIndex(CheckpointFile index, string why) =>
        new(index.Path, $"not a checkpoint: a JSON file, but not a sharded checkpoint index ({why}; an index is {{\"weight_map\": {{\"key\": \"shard file\"}}}})");

    public TorchTree ReadTree(CheckpointLimits limits)
    {
        var tensors = new List<TensorInfo>();
        var values = new List<KeyValuePair<string, object?>>();
        var storages = new List<StorageDecl>();
        var sparse = new List<SparseTensorInfo>();
        var quantized = new List<QuantizedTensorInfo>();
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var shard in _shards)
        {
            var tree = shard.Container.ReadTree(limits);
            var roots = new Dictionary<StorageRef, StorageRef>(ReferenceEqualityComparer.Instance);
            var kinds = new TensorKindRemap();
            foreach (var tensor in tree.Tensors)
            {
                // The index lists a sparse or quantized tensor once, under its own key, not its components'.
                if (tensor.Owner is null)
                {
                    Claim(tensor.Key, shard, found);
                }
                var root = tensor.Storage.Root;
                if (!roots.TryGetValue(root, out var outer))
                {
                    outer = new StorageRef($"{shard.Name}:{root.Key}", root.DType, root.Size, root.Untyped, root.PickleOffset) { Quantized = root.Quantized };
                    roots.Add(root, outer);
                }
                tensors.Add(kinds.Move(tensor, new TensorInfo(tensor.Key, tensor.DType, tensor.Shape, tensor.Strides, tensor.StorageOffset, tensor.ElementCount,
                    tensor.IsParameter, tensor.Storage with { Root = outer })));
            }
            sparse.AddRange(tree.Sparse.Select(kinds.Sparse));
            quantized.AddRange(tree.Quantized.Select(kinds.Quantized));
            foreach (var s in tree.Sparse)
            {
                Claim(s.Key, shard, found);
            }
            foreach (var value in tree.Values)
            {
                Claim(value.Key, shard, found);
                values.Add(value);
            }
            foreach (var storage in tree.Storages)
            {
                string key = $"{shard.Name}:{storage.Key}";
                _storages[key] = (shard, null);
                storages.Add(storage with { Key = key });
            }
        }
        foreach (var (key, (name, at)) in _weightMap)
        {
            if (!found.Contains(key))
            {
                throw new CheckpointCorruptException(_index.Path,
                    $"index byte {at}: weight_map puts '{SafetensorsHeader.Shorten(key)}' in shard {name}, which has no such key");
            }
        }
        return new TorchTree(tensors, values, storages) { Sparse = sparse, Quantized = quantized };
    }

    private void Claim(string key, Shard shard, HashSet<string> found)
    {
        if (!_weightMap.TryGetValue(key, out var mapped))
        {
            throw new CheckpointCorruptException(_index.Path,
                $"shard {shard.Name} holds '{SafetensorsHeader.Shorten(key)}', which the index's weight_map does not list");
        }
        if (mapped.Shard != shard.Name || !found.Add(key))
        {
            throw new CheckpointCorruptException(_index.Path,
                $"index byte {mapped.At}: weight_map puts '{SafetensorsHeader.Shorten(key)}' in shard {mapped.Shard}, but it is in shard {shard.Name}");
        }
    }

    public IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages)
    {
        var located = new Dictionary<string, StorageLocation>(storages.Count, StringComparer.Ordinal);
        foreach (var group in storages.GroupBy(s => _storages[s.Key].Shard))
        {
            var shard = group.Key;
            string prefix = shard.Name + ":";
            var inner = shard.Container.LocateStorages(group.Select(s => s with { Key = s.Key[prefix.Length..] }).ToList());
            foreach (var (key, location) in inner)
            {
                string outer = prefix + key;
                _storages[outer] = (shard, location);
                located.Add(outer, location with { Key = outer, Record = $"{location.Record} of shard {shard.Name}", File = location.File ?? shard.File });
            }
        }
        return located;
    }

    public void ReadStorage(StorageLocation location, long start, Span<byte> destination)
    {
        var (shard, inner) = _storages[location.Key];
        shard.Container.ReadStorage(inner!, start, destination);
    }

    public void Dispose() => Dispose(_shards);

    private static void Dispose(List<Shard> shards)
    {
        foreach (var shard in shards)
        {
            shard.Container.Dispose();
            shard.File.Dispose();
        }
    }
}
