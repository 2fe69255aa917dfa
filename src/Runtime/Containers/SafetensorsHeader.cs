using System.Text;
using System.Text.Json;

namespace StateDict.Containers;

/// <summary>
/// One tensor of a safetensors header as written: dtype code, shape, and <c>data_offsets</c> relative to the byte
/// buffer after the header. <see cref="At"/> is the file offset of its name, for messages.
/// </summary>
internal sealed record SafetensorsEntry(string Name, string DTypeCode, long[] Shape, long Begin, long End, long At);

/// <summary>
/// Parses a safetensors header: one JSON object of <c>"name": {"dtype", "shape", "data_offsets": [begin, end]}</c>
/// entries plus an optional <c>"__metadata__"</c> object of strings, the way the reference's serde model reads it
/// (unknown fields of an entry are ignored; a missing or repeated field, a wrong type, comments or trailing commas are
/// errors), and stricter where the reference leaves it to chance: a name given twice is refused.
/// Entries keep the header's order.
/// </summary>
internal ref struct SafetensorsHeader
{
    private const string MetadataKey = "__metadata__";

    private readonly string _path;
    private readonly long _base;
    private readonly CheckpointLimits _limits;
    private Utf8JsonReader _reader;

    private SafetensorsHeader(ReadOnlySpan<byte> json, string path, long baseOffset, CheckpointLimits limits)
    {
        _path = path;
        _base = baseOffset;
        _limits = limits;
        _reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
    }

    /// <summary>Parses <paramref name="json"/>, which starts at byte <paramref name="baseOffset"/> of the file.</summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        ReadOnlySpan<byte> json, string path, long baseOffset, CheckpointLimits limits)
    {
        CheckUtf8(json, path, baseOffset);
        var parser = new SafetensorsHeader(json, path, baseOffset, limits);
        try
        {
            return parser.ReadHeader();
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(path,
                $"the safetensors header (bytes {baseOffset}..{baseOffset + json.Length}) is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The header must be UTF-8 (the reference refuses anything else before parsing).</summary>
    private static void CheckUtf8(ReadOnlySpan<byte> json, string path, long baseOffset)
    {
        if (System.Text.Unicode.Utf8.IsValid(json))
        {
            return;
        }
        int position = 0;
        while (Rune.DecodeFromUtf8(json[position..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
        {
            position += consumed;
        }
        throw new CheckpointCorruptException(path,
            $"the safetensors header is not valid UTF-8: byte {baseOffset + position} (0x{json[position]:X2}) does not continue a UTF-8 sequence");
    }

    private (List<SafetensorsEntry>, Dictionary<string, string>) ReadHeader()
    {
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        Next();
        Expect(JsonTokenType.StartObject, "the header");
        while (Next() == JsonTokenType.PropertyName)
        {
            long at = Position;
            string name = _reader.GetString()!;
            if (!names.Add(name))
            {
                throw Corrupt(at, $"the name '{Shorten(name)}' appears twice in the header (duplicate keys are refused: readers disagree on which one wins)");
            }
            if (name == MetadataKey)
            {
                ReadMetadata(metadata);
                continue;
            }
            if (entries.Count >= _limits.MaxEntries)
            {
                throw Corrupt(at, $"more than {_limits.MaxEntries} tensors (CheckpointLimits.MaxEntries)");
            }
            entries.Add(ReadEntry(name, at));
        }
        // The reader throws on anything but whitespace after the object (the reference's padding is spaces).
        if (_reader.Read())
        {
            throw Corrupt(Position, "data after the header's JSON object");
        }
        return (entries, metadata);
    }

    private void ReadMetadata(Dictionary<string, string> metadata)
    {
        if (Next() == JsonTokenType.Null)
        {
            return; // serde reads null as no metadata
        }
        Expect(JsonTokenType.StartObject, $"{MetadataKey}");
        while (Next() == JsonTokenType.PropertyName)
        {
            long at = Position;
            string key = _reader.GetString()!;
            Next();
            Expect(JsonTokenType.String, $"{MetadataKey} value of '{Shorten(key)}'");
            if (!metadata.TryAdd(key, _reader.GetString()!))
            {
                throw Corrupt(at, $"{MetadataKey} has the key '{Shorten(key)}' twice");
            }
        }
    }

    private SafetensorsEntry ReadEntry(string name, long at)
    {
        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        Next();
        Expect(JsonTokenType.StartObject, $"tensor '{Shorten(name)}'");
        while (Next() == JsonTokenType.PropertyName)
        {
            long fieldAt = Position;
            string field = _reader.GetString()!;
            switch (field)
            {
                case "dtype" when dtype is null:
                    Next();
                    Expect(JsonTokenType.String, $"tensor '{Shorten(name)}' dtype");
                    dtype = _reader.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(name, "shape", _limits.MaxRank);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(name, "data_offsets", 2);
                    if (offsets.Length != 2)
                    {
                        throw Corrupt(fieldAt, $"tensor '{Shorten(name)}' data_offsets has {offsets.Length} {(offsets.Length == 1 ? "number" : "numbers")}; it must be [begin, end]");
                    }
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Corrupt(fieldAt, $"tensor '{Shorten(name)}' has the field '{field}' twice");
                default:
                    _reader.Skip(); // serde ignores fields it does not know
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Corrupt(at, $"tensor '{Shorten(name)}' has no '{missing}' field");
        }
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1], at);
    }

    /// <summary>A JSON array of at most <paramref name="max"/> non-negative integers (usize in the reference).</summary>
    private long[] ReadIntegers(string name, string field, int max)
    {
        Next();
        Expect(JsonTokenType.StartArray, $"tensor '{Shorten(name)}' {field}");
        var values = new List<long>();
        while (Next() != JsonTokenType.EndArray)
        {
            long at = Position;
            if (_reader.TokenType != JsonTokenType.Number || !_reader.TryGetUInt64(out ulong value))
            {
                throw Corrupt(at, $"tensor '{Shorten(name)}' {field} holds {Token()}; it must hold non-negative integers");
            }
            if (value > long.MaxValue)
            {
                throw Corrupt(at, $"tensor '{Shorten(name)}' {field} holds {value}, larger than any file or tensor");
            }
            if (values.Count == max)
            {
                throw Corrupt(at, field == "shape"
                    ? $"tensor '{Shorten(name)}' has more than {max} dimensions (CheckpointLimits.MaxRank)"
                    : $"tensor '{Shorten(name)}' {field} has more than {max} numbers");
            }
            values.Add((long)value);
        }
        return [.. values];
    }

    private JsonTokenType Next()
    {
        if (!_reader.Read())
        {
            throw Corrupt(Position, "the header is not valid JSON: it ends early");
        }
        return _reader.TokenType;
    }

    private readonly void Expect(JsonTokenType type, string what)
    {
        if (_reader.TokenType != type)
        {
            string wanted = type switch
            {
                JsonTokenType.StartObject => "an object",
                JsonTokenType.StartArray => "an array",
                JsonTokenType.String => "a string",
                _ => type.ToString(),
            };
            throw Corrupt(Position, $"{what} must be {wanted}, not {Token()}");
        }
    }

    private readonly string Token() => _reader.TokenType switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => $"the number {Encoding.UTF8.GetString(_reader.ValueSpan)}",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => _reader.TokenType.ToString(),
    };

    private readonly long Position => _base + _reader.TokenStartIndex;

    private readonly CheckpointCorruptException Corrupt(long at, string problem) =>
        new(_path, $"safetensors header byte {at}: {problem}");

    internal static string Shorten(string name) => name.Length <= 200 ? name : name[..200] + "…";
}
