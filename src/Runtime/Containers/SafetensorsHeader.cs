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
/// (unknown fields of an entry are ignored but must still parse as serde_json parses them: no escaped lone surrogate,
/// no number beyond a double; a missing or repeated field, a wrong type, comments, trailing commas, a byte-order mark
/// or nesting past <see cref="MaxDepth"/> levels are errors). Deliberately stricter than the reference where it
/// leaves the answer to chance or to serde's corners: a tensor name or metadata key given twice (serde keeps the last)
/// is refused; a dimension over 2^63 - 1 (only valid beside a 0), a tensor written as a JSON array (serde's sequence
/// form of a struct) or a dtype in serde's map form (<c>{"F32": null}</c>) is refused too.
/// Entries keep the header's order.
/// </summary>
internal ref struct SafetensorsHeader
{
    private const string MetadataKey = "__metadata__";

    /// <summary>
    /// The deepest nesting serde_json reads: its recursion budget of 128 is spent one level per '[' or '{' and fails
    /// when it reaches 0, so 127 levels (the header object counting as one) parse and 128 do not.
    /// </summary>
    public const int MaxDepth = 127;

    private readonly string _path;
    private readonly long _base;
    private readonly CheckpointLimits _limits;
    private Utf8JsonReader _reader;

    private SafetensorsHeader(ReadOnlySpan<byte> json, string path, long baseOffset, CheckpointLimits limits)
    {
        _path = path;
        _base = baseOffset;
        _limits = limits;
        _reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth + 1 }); // Next() refuses the level past MaxDepth itself, to say why
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
            string name = Text();
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
            string key = Text();
            Next();
            Expect(JsonTokenType.String, $"{MetadataKey} value of '{Shorten(key)}'");
            if (!metadata.TryAdd(key, Text()))
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
            string field = Text();
            switch (field)
            {
                case "dtype" when dtype is null:
                    Next();
                    Expect(JsonTokenType.String, $"tensor '{Shorten(name)}' dtype");
                    dtype = Text();
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
                    SkipValue(); // serde ignores fields it does not know, after parsing them
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

    /// <summary>
    /// Skips a value the reference ignores, checking what serde_json checks as it buffers it (the tensors are a
    /// flattened map, so every value is parsed whole): strings must unescape to text, numbers must fit a double.
    /// </summary>
    private void SkipValue()
    {
        int open = 0;
        do
        {
            switch (Next())
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    open++;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    open--;
                    break;
                case JsonTokenType.String or JsonTokenType.PropertyName:
                    Text();
                    break;
                case JsonTokenType.Number when !_reader.TryGetDouble(out double value) || !double.IsFinite(value):
                    throw Corrupt(Position, $"{Token()} is out of the range of a double, which the reference's parser refuses");
            }
        }
        while (open > 0);
    }

    /// <summary>The current string or name, unescaped; an escaped lone surrogate (<c>\ud800</c>) is refused, as serde_json refuses it.</summary>
    private readonly string Text()
    {
        try
        {
            return _reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Corrupt(Position, "a string escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair), which is not text");
        }
    }

    private JsonTokenType Next()
    {
        if (!_reader.Read())
        {
            throw Corrupt(Position, "the header is not valid JSON: it ends early");
        }
        if (_reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && _reader.CurrentDepth >= MaxDepth)
        {
            throw Corrupt(Position, $"JSON nested deeper than {MaxDepth} levels, where the reference's parser (serde_json) stops");
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
