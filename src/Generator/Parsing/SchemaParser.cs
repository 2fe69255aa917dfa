using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;

namespace StateDict.Generator.Parsing
{
    /// <summary>
    /// Reads a schema file (<c>{"format": "statedict-schema/1", "tensors": {key: {dtype, shape}}}</c>) into a
    /// <see cref="SchemaFile"/>, with every problem located at its exact span in the file.
    /// </summary>
    internal static class SchemaParser
    {
        public const string FormatName = "statedict-schema/1";

        public static SchemaFile Parse(string path, SourceText? text, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var tensors = new List<SchemaTensor>();
            string fileName = System.IO.Path.GetFileName(path);
            if (text is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotASchema, null, fileName, "the file could not be read"));
                return Result(path, false, tensors, diagnostics);
            }

            JsonNode root;
            try
            {
                root = JsonReader.Parse(text.ToString());
            }
            catch (JsonSyntaxException e)
            {
                diagnostics.Add(e.ToDiagnostic(Descriptors.MalformedJson, path, text));
                return Result(path, false, tensors, diagnostics);
            }

            if (!(root is JsonObject obj) || !(obj["format"] is JsonString format) || format.Value != FormatName)
            {
                var where = root is JsonObject o && o["format"] is JsonNode f ? f : root;
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotASchema, LocationInfo.In(path, text, where.Start, where.Length), fileName,
                    $"expected \"format\": \"{FormatName}\""));
                return Result(path, false, tensors, diagnostics);
            }
            if (!(obj["tensors"] is JsonObject entries))
            {
                var where = obj["tensors"] ?? (JsonNode)obj;
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotASchema, LocationInfo.In(path, text, where.Start, where.Length), fileName,
                    "expected a \"tensors\" object mapping keys to {\"dtype\", \"shape\"}"));
                return Result(path, false, tensors, diagnostics);
            }

            var seen = new HashSet<string>();
            var kinds = new SchemaKindReader(path, text, diagnostics);
            foreach (var property in entries.Properties)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var keyAt = LocationInfo.In(path, text, property.NameStart, property.NameEnd - property.NameStart);
                var tensor = ReadTensor(path, text, property, keyAt, diagnostics);
                if (tensor is null)
                {
                    continue;
                }
                if (!seen.Add(tensor.Key))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.DuplicateKey, keyAt, tensor.Key));
                    continue;
                }
                tensor = kinds.Read((JsonObject)property.Value, tensor);
                if (tensor != null)
                {
                    tensors.Add(tensor);
                }
            }
            tensors = kinds.Group(tensors, seen);
            CheckPrefixConflicts(tensors.ToDictionary(t => t.Key), tensors, diagnostics);
            return Result(path, true, tensors, diagnostics);
        }

        private static SchemaTensor? ReadTensor(string path, SourceText text, JsonProperty property, LocationInfo keyAt, List<DiagnosticInfo> diagnostics)
        {
            string key = property.Name;
            string? keyProblem = key.Length == 0 ? "it is empty"
                : key.StartsWith(".", System.StringComparison.Ordinal) || key.EndsWith(".", System.StringComparison.Ordinal) || key.Contains("..") ? "it has an empty segment"
                : null;
            if (keyProblem != null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidKey, keyAt, key, keyProblem));
                return null;
            }
            if (!(property.Value is JsonObject spec))
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotASchema, At(path, text, property.Value), System.IO.Path.GetFileName(path),
                    $"the entry for '{key}' must be an object {{\"dtype\": ..., \"shape\": [...]}}"));
                return null;
            }
            string? dtype = null;
            if (!(spec["dtype"] is JsonString dtypeNode) || !DTypes.TryCanonical(dtypeNode.Value, out dtype))
            {
                dtype = null; // TryCanonical hands back the unknown name; the tensor must not be kept.
                var where = spec["dtype"] ?? spec;
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnknownDType, At(path, text, where), key,
                    spec["dtype"] is JsonString s ? s.Value : "(missing)"));
            }
            var shape = ReadShape(path, text, key, spec, diagnostics);
            return dtype is null || shape is null ? null : new SchemaTensor(key, dtype, shape.Value, keyAt);
        }

        private static EquatableArray<long>? ReadShape(string path, SourceText text, string key, JsonObject spec, List<DiagnosticInfo> diagnostics)
        {
            if (!(spec["shape"] is JsonArray array))
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadShape, At(path, text, spec["shape"] ?? spec), key, "expected an array of non-negative integers"));
                return null;
            }
            var dims = Dims(array, out int bad);
            if (dims is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadShape, At(path, text, array.Items[bad]), key, $"dimension {bad} is not a non-negative integer"));
            }
            return dims;
        }

        /// <summary>The dimensions of a shape array, or null with the index of the first one that is not a non-negative integer.</summary>
        public static EquatableArray<long>? Dims(JsonArray array, out int bad)
        {
            var dims = new long[array.Items.Count];
            for (bad = 0; bad < dims.Length; bad++)
            {
                if (!(array.Items[bad] is JsonNumber number) || !number.TryGetInt64(out dims[bad]) || dims[bad] < 0)
                {
                    return null;
                }
            }
            return new EquatableArray<long>(dims);
        }

        /// <summary>A key that is a tensor cannot also be the module of another key ('a' and 'a.b').</summary>
        private static void CheckPrefixConflicts(Dictionary<string, SchemaTensor> keys, List<SchemaTensor> tensors, List<DiagnosticInfo> diagnostics)
        {
            var reported = new HashSet<string>();
            foreach (var tensor in tensors)
            {
                for (int dot = tensor.Key.IndexOf('.'); dot >= 0; dot = tensor.Key.IndexOf('.', dot + 1))
                {
                    string prefix = tensor.Key.Substring(0, dot);
                    if (keys.TryGetValue(prefix, out var owner) && reported.Add(prefix))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.TensorAndModule, owner.KeyLocation, prefix, tensor.Key));
                    }
                }
            }
            if (reported.Count > 0)
            {
                tensors.RemoveAll(t => reported.Contains(t.Key));
            }
        }

        private static LocationInfo At(string path, SourceText text, JsonNode node) => LocationInfo.In(path, text, node.Start, node.Length);

        private static SchemaFile Result(string path, bool isSchema, List<SchemaTensor> tensors, List<DiagnosticInfo> diagnostics) =>
            new SchemaFile(path, isSchema, tensors.ToEquatableArray(), diagnostics.ToEquatableArray());
    }
}
