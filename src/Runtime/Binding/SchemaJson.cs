using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace StateDict;

/// <summary>
/// The schema format the source generator reads: <c>{"format": "statedict-schema/1", "tensors": {key: {dtype, shape}}}</c>;
/// a meta tensor's entry adds <c>"device": "meta"</c> (it has no data).
/// Sparse and quantized tensors are listed as <see cref="Checkpoint.Tensors"/> lists them, one entry per component, with
/// the members <c>statedict inspect --json</c> gives them: <c>"layout"</c>, <c>"of"</c> and <c>"component"</c> for a
/// component (<c>"adj.indices": {..., "layout": "sparse_coo", "of": "adj", "component": "indices"}</c>),
/// and the sparse tensor's size as <c>"dense_shape"</c>; <c>"quantized_dtype"</c>, <c>"qscheme"</c>, <c>"quantized_shape"</c> (the
/// logical shape) and per channel <c>"axis"</c> for a quantized tensor's integer representation. The generator binds a sparse
/// tensor (all its components) as <c>SparseTensor&lt;T&gt;</c>, a quantized one as <c>QuantizedTensor</c>, a meta one as <c>TensorInfo</c>.
/// A per-channel quantized tensor's <c>KEY.scales</c> and <c>KEY.zero_points</c> are left out: as entries they would make
/// <c>KEY</c> both a tensor and a module (SD0007); <see cref="Checkpoint.ReadQuantized(string)"/> reads them.
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
            if (info.Owner is { } owner && checkpoint.QuantizedTensors.ContainsKey(owner))
            {
                continue;
            }
            text.Append(separator)
                .Append("    \"").Append(JsonEncodedText.Encode(info.Key, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).Append("\": ")
                .Append("{\"dtype\": \"").Append(info.DType.Name()).Append("\", \"shape\": [").Append(string.Join(", ", info.Shape)).Append(']');
            AppendKind(text, checkpoint, info);
            text.Append(info.IsMeta ? ", \"device\": \"meta\"}" : "}");
            separator = ",\n";
        }
        text.Append(separator == "\n" ? "}\n}\n" : "\n  }\n}\n");
        return text.ToString();
    }

    /// <summary>The members that say a tensor is a sparse tensor's component or a quantized tensor (nothing for a dense one).</summary>
    private static void AppendKind(StringBuilder text, Checkpoint checkpoint, TensorInfo info)
    {
        if (info.Layout != TensorLayout.Strided)
        {
            text.Append(", \"layout\": \"").Append(info.Layout.Name()).Append('"');
        }
        if (info.Owner is { } owner)
        {
            text.Append(", \"of\": \"").Append(JsonEncodedText.Encode(owner, JavaScriptEncoder.UnsafeRelaxedJsonEscaping))
                .Append("\", \"component\": \"").Append(info.Component).Append('"');
            if (checkpoint.SparseTensors.TryGetValue(owner, out var sparse))
            {
                text.Append(", \"dense_shape\": [").Append(string.Join(", ", sparse.Shape)).Append(']');
            }
        }
        if (info.QuantizedDType is { } qdtype && checkpoint.QuantizedTensors.TryGetValue(info.Key, out var quantized))
        {
            text.Append(", \"quantized_dtype\": \"").Append(qdtype.Name()).Append("\", \"qscheme\": \"").Append(quantized.Scheme.Name()).Append('"')
                .Append(", \"quantized_shape\": [").Append(string.Join(", ", quantized.Shape)).Append(']');
            if (quantized.Scheme != QScheme.PerTensorAffine)
            {
                text.Append(", \"axis\": ").Append(quantized.Axis.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
