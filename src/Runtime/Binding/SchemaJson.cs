using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace StateDict;

/// <summary>
/// The schema format the source generator reads: <c>{"format": "statedict-schema/1", "tensors": {key: {dtype, shape}}}</c>;
/// a meta tensor's entry adds <c>"device": "meta"</c> (the generator gives it no property: it has no data).
/// </summary>
public static class SchemaJson
{
    /// <summary>The value of the schema's <c>format</c> member.</summary>
    public const string FormatName = "statedict-schema/1";

    /// <summary>Writes the schema of <paramref name="checkpoint"/>'s tensors as JSON, one line per tensor, in file order.</summary>
    /// <example><code>File.WriteAllText("model.schema.json", SchemaJson.Write(checkpoint));</code></example>
    public static string Write(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var text = new StringBuilder();
        text.Append("{\n  \"format\": \"").Append(FormatName).Append("\",\n  \"tensors\": {");
        string separator = "\n";
        foreach (var info in checkpoint.Tensors.Values)
        {
            text.Append(separator)
                .Append("    \"").Append(JsonEncodedText.Encode(info.Key, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).Append("\": ")
                .Append("{\"dtype\": \"").Append(info.DType.Name()).Append("\", \"shape\": [").Append(string.Join(", ", info.Shape)).Append(']')
                .Append(info.IsMeta ? ", \"device\": \"meta\"}" : "}");
            separator = ",\n";
        }
        text.Append(checkpoint.Tensors.Count == 0 ? "}\n}\n" : "\n  }\n}\n");
        return text.ToString();
    }
}
