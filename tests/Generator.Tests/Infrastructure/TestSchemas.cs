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

    /// <summary>float32 tensors of shape [2] under the given keys.</summary>
    public static string Keys(params string[] keys) => Of(keys.Select(k => (k, "float32", new long[] { 2 })).ToArray());
}
