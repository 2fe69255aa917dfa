using System.Globalization;
using System.Text.Json;

namespace StateDict;

/// <summary>
/// One value of a config file, with the file's name and the value's path for error messages. The code generated for
/// <see cref="StateDictConfigAttribute"/> reads a config through it (no reflection: trim- and AOT-safe); every
/// accessor checks the JSON kind and range and throws a <see cref="ConfigException"/> naming the file and the field.
/// </summary>
/// <example>
/// <code>
/// int layers = ConfigValue.Load("config.json", static json => json.Field("n_layer").AsInt32());
/// </code>
/// </example>
public readonly struct ConfigValue
{
    /// <summary>The largest config file read (Hugging Face configs are a few kilobytes).</summary>
    public const int MaxFileBytes = 64 << 20;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    private readonly JsonElement _element;

    private ConfigValue(JsonElement element, string file, string path)
    {
        _element = element;
        File = file;
        Path = path;
    }

    /// <summary>The config file, as the caller named it.</summary>
    public string File { get; }

    /// <summary>Where the value is in the file: <c>rope_scaling.factor</c>, <c>layers[2]</c>; empty for the root.</summary>
    public string Path { get; }

    /// <summary>True for a JSON <c>null</c>.</summary>
    public bool IsNull => _element.ValueKind == JsonValueKind.Null;

    /// <summary>Reads the config file at <paramref name="path"/> and builds <typeparamref name="T"/> from its root.</summary>
    /// <exception cref="ConfigException">The file is not JSON, or <paramref name="create"/> found a field missing or of another type.</exception>
    public static T Load<T>(string path, Func<ConfigValue, T> create)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = System.IO.File.OpenRead(path);
        return Load(stream, path, create);
    }

    /// <summary>Reads a config from <paramref name="stream"/>; <paramref name="name"/> names it in error messages.</summary>
    /// <exception cref="ConfigException">The text is not JSON, is too big, or a field is missing or of another type.</exception>
    public static T Load<T>(Stream stream, string name, Func<ConfigValue, T> create)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        for (int read; (read = stream.Read(chunk, 0, chunk.Length)) > 0;)
        {
            if (buffer.Length + read > MaxFileBytes)
            {
                throw new ConfigException(name, "", $"the file is larger than {MaxFileBytes} bytes, too big for a config");
            }
            buffer.Write(chunk, 0, read);
        }
        return Parse(new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length), name, create);
    }

    /// <summary>Parses config JSON text; <paramref name="name"/> names it in error messages.</summary>
    /// <exception cref="ConfigException">The text is not JSON, or a field is missing or of another type.</exception>
    public static T Parse<T>(string json, string name, Func<ConfigValue, T> create)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json), name, create);
    }

    private static T Parse<T>(ReadOnlyMemory<byte> utf8, string name, Func<ConfigValue, T> create)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(create);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException e)
        {
            throw new ConfigException(name, "", $"not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            return create(new ConfigValue(document.RootElement, name, ""));
        }
    }

    /// <summary>Checks that this value is a JSON object (the generated classes' constructors start with it).</summary>
    public void ExpectObject()
    {
        if (_element.ValueKind != JsonValueKind.Object)
        {
            throw Wrong("an object");
        }
    }

    /// <summary>The member <paramref name="name"/> of this object, which must be present (it may be <c>null</c>; the accessors then say so).</summary>
    public ConfigValue Field(string name) =>
        OptionalMember(name) ?? throw new ConfigException(File, Child(name), "is missing");

    /// <summary>The member <paramref name="name"/> of this object, or null when it is missing or <c>null</c>.</summary>
    public ConfigValue? OptionalField(string name) => OptionalMember(name)?.OrNull();

    /// <summary>This value, or null when it is a JSON <c>null</c>.</summary>
    public ConfigValue? OrNull() => IsNull ? null : this;

    /// <summary>An integer from <see cref="int.MinValue"/> to <see cref="int.MaxValue"/>.</summary>
    public int AsInt32() => _element.ValueKind == JsonValueKind.Number && _element.TryGetInt32(out int value)
        ? value
        : throw Wrong("an integer from -2147483648 to 2147483647");

    /// <summary>An integer from <see cref="long.MinValue"/> to <see cref="long.MaxValue"/>.</summary>
    public long AsInt64() => _element.ValueKind == JsonValueKind.Number && _element.TryGetInt64(out long value)
        ? value
        : throw Wrong("an integer from -9223372036854775808 to 9223372036854775807");

    /// <summary>Any JSON number, as the nearest double.</summary>
    public double AsDouble() => _element.ValueKind == JsonValueKind.Number && _element.TryGetDouble(out double value)
        ? value
        : throw Wrong("a number");

    /// <summary><c>true</c> or <c>false</c>.</summary>
    public bool AsBoolean() => _element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Wrong("true or false"),
    };

    /// <summary>A JSON string.</summary>
    public string AsString() => _element.ValueKind == JsonValueKind.String ? _element.GetString()! : throw Wrong("a string");

    /// <summary>The value as raw JSON (a field whose type the generator could not infer), detached from the file.</summary>
    public JsonElement AsJson() => _element.Clone();

    /// <summary>Builds <typeparamref name="T"/> from this value (a nested config class).</summary>
    public T As<T>(Func<ConfigValue, T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        return create(this);
    }

    /// <summary>A JSON array, each item read by <paramref name="item"/>.</summary>
    public IReadOnlyList<T> AsList<T>(Func<ConfigValue, T> item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (_element.ValueKind != JsonValueKind.Array)
        {
            throw Wrong("an array");
        }
        var items = new T[_element.GetArrayLength()];
        int i = 0;
        foreach (JsonElement element in _element.EnumerateArray())
        {
            items[i] = item(new ConfigValue(element, File, Path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]"));
            i++;
        }
        return items;
    }

    /// <summary>A JSON object read as a dictionary (<c>id2label</c>), each value read by <paramref name="value"/>.</summary>
    public IReadOnlyDictionary<string, T> AsDictionary<T>(Func<ConfigValue, T> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ExpectObject();
        var entries = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (JsonProperty property in _element.EnumerateObject())
        {
            entries[property.Name] = value(new ConfigValue(property.Value, File, Child(property.Name)));
        }
        return entries;
    }

    private ConfigValue? OptionalMember(string name)
    {
        ExpectObject();
        return _element.TryGetProperty(name, out JsonElement member) ? new ConfigValue(member, File, Child(name)) : null;
    }

    private string Child(string name) => Path.Length == 0 ? name : Path + "." + name;

    private ConfigException Wrong(string expected)
    {
        string found = _element.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "the string " + Shorten(_element.GetRawText()),
            JsonValueKind.Number => "the number " + Shorten(_element.GetRawText()),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => "null",
        };
        return Path.Length == 0
            ? new ConfigException(File, "", $"the top level must be {expected}, not {found}")
            : new ConfigException(File, Path, $"must be {expected}, not {found}");
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
