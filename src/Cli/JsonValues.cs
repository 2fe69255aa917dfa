using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace StateDict.Cli;

/// <summary>Writes checkpoint values (Python leaves) as JSON and as text.</summary>
internal static class JsonValues
{
    public static void WriteShape(Utf8JsonWriter writer, string name, ImmutableArray<long> shape)
    {
        // One line per shape reads better than one line per dimension.
        writer.WritePropertyName(name);
        writer.WriteRawValue($"[{string.Join(", ", shape)}]");
    }

    /// <summary>
    /// Writes a plain value as JSON (docs/values.md): null, true/false, integers (any size) and finite floats as
    /// themselves, strings as strings; a float that JSON cannot hold as <c>{"$float": "inf" | "-inf" | "nan"}</c>,
    /// bytes as <c>{"$bytes": BASE64}</c>, a complex number as <c>{"$complex": [re, im]}</c>. Values are leaves (dicts,
    /// lists, tuples and sets flatten to keys), so an object here is always one of these tags, never a Python dict.
    /// A string holding lone UTF-16 surrogates (Python's surrogatepass) is written with them escaped (<c>\ud800</c>).
    /// </summary>
    public static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case long l: writer.WriteNumberValue(l); break;
            case BigInteger big: writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture)); break;
            case double d: WriteFloat(writer, d); break;
            case string s when HasLoneSurrogate(s): writer.WriteRawValue(EscapedString(s), skipInputValidation: true); break;
            case string s: writer.WriteStringValue(s); break;
            case byte[] bytes:
                writer.WriteStartObject();
                writer.WriteBase64String("$bytes", bytes);
                writer.WriteEndObject();
                break;
            case Complex c:
                writer.WriteStartObject();
                writer.WriteStartArray("$complex");
                WriteFloat(writer, c.Real);
                WriteFloat(writer, c.Imaginary);
                writer.WriteEndArray();
                writer.WriteEndObject();
                break;
            default: writer.WriteStringValue(value.ToString()); break;
        }
    }

    private static void WriteFloat(Utf8JsonWriter writer, double d)
    {
        if (double.IsFinite(d))
        {
            writer.WriteNumberValue(d);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("$float", double.IsNaN(d) ? "nan" : d > 0 ? "inf" : "-inf");
        writer.WriteEndObject();
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A JSON string literal with every non-ASCII or control character as a \uXXXX escape (surrogates included).</summary>
    private static string EscapedString(string s)
    {
        var text = new System.Text.StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\').Append(c);
            }
            else if (c < 0x20 || c > 0x7E)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }
        return text.Append('"').ToString();
    }

    public static string Display(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => $"'{s}'",
        Complex c => string.Create(CultureInfo.InvariantCulture, $"({c.Real:R}{(c.Imaginary < 0 || double.IsNegative(c.Imaginary) ? "" : "+")}{c.Imaginary:R}j)"),
        byte[] bytes => $"<{bytes.Length} bytes>",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
