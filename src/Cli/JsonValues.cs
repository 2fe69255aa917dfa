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

    public static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case long l: writer.WriteNumberValue(l); break;
            case BigInteger big: writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture)); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case double d: writer.WriteStringValue(d.ToString(CultureInfo.InvariantCulture)); break;
            case string s: writer.WriteStringValue(s); break;
            case byte[] bytes: writer.WriteBase64StringValue(bytes); break;
            case Complex c:
                writer.WriteStartArray();
                writer.WriteNumberValue(c.Real);
                writer.WriteNumberValue(c.Imaginary);
                writer.WriteEndArray();
                break;
            default: writer.WriteStringValue(value.ToString()); break;
        }
    }

    public static string Display(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => $"'{s}'",
        byte[] bytes => $"<{bytes.Length} bytes>",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
