using System.Text;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>Builds schema files in the layout <c>statedict schema</c> writes: one tensor per line, keys in file order.</summary>
public static class TestSchemas
{
    public static string Of(params (string Key, string DType, long[] Shape)[] tensors)
    {
        var json = new StringBuilder("{\n  \"format\": \"statedict-schema/1\",\n  \"tensors\": {\n");
        for (int i = 0; i < tensors.Length; i++)
        {
            var (key, dtype, shape) = tensors[i];
            json.Append("    \"").Append(key).Append("\": {\"dtype\": \"").Append(dtype).Append("\", \"shape\": [")
                .Append(string.Join(", ", shape)).Append("]}").Append(i + 1 < tensors.Length ? ",\n" : "\n");
        }
        return json.Append("  }\n}\n").ToString();
    }

    /// <summary>
    /// Sparse, quantized and meta entries as <c>statedict schema</c> writes them: a COO and an int32-indexed float16 CSR
    /// (components with layout, of, component, dense_shape), a per-channel qint8 and a packed quint4x2 tensor, a meta
    /// tensor, and a list whose items each hold a quantized weight and a dense bias.
    /// </summary>
    public const string Kinds = """
        {
          "format": "statedict-schema/1",
          "tensors": {
            "adj.indices": {"dtype": "int64", "shape": [2, 4], "layout": "sparse_coo", "of": "adj", "component": "indices", "dense_shape": [3, 4]},
            "adj.values": {"dtype": "float32", "shape": [4], "layout": "sparse_coo", "of": "adj", "component": "values", "dense_shape": [3, 4]},
            "csr.crow_indices": {"dtype": "int32", "shape": [4], "layout": "sparse_csr", "of": "csr", "component": "crow_indices", "dense_shape": [3, 5]},
            "csr.col_indices": {"dtype": "int32", "shape": [3], "layout": "sparse_csr", "of": "csr", "component": "col_indices", "dense_shape": [3, 5]},
            "csr.values": {"dtype": "float16", "shape": [3], "layout": "sparse_csr", "of": "csr", "component": "values", "dense_shape": [3, 5]},
            "fc.weight": {"dtype": "int8", "shape": [3, 4], "quantized_dtype": "qint8", "qscheme": "per_channel_affine", "quantized_shape": [3, 4], "axis": 0},
            "fc.bias": {"dtype": "float32", "shape": [3]},
            "emb": {"dtype": "uint8", "shape": [8], "quantized_dtype": "quint4x2", "qscheme": "per_tensor_affine", "quantized_shape": [3, 5]},
            "ghost": {"dtype": "float32", "shape": [3, 4], "device": "meta"},
            "layers.0.weight": {"dtype": "int8", "shape": [2, 2], "quantized_dtype": "qint8", "qscheme": "per_tensor_affine", "quantized_shape": [2, 2]},
            "layers.0.bias": {"dtype": "float32", "shape": [2]},
            "layers.1.weight": {"dtype": "int8", "shape": [2, 2], "quantized_dtype": "qint8", "qscheme": "per_tensor_affine", "quantized_shape": [2, 2]},
            "layers.1.bias": {"dtype": "float32", "shape": [2]}
          }
        }
        """;

    /// <summary>float32 tensors of shape [2] under the given keys.</summary>
    public static string Keys(params string[] keys) => Of(keys.Select(k => (k, "float32", new long[] { 2 })).ToArray());
}
