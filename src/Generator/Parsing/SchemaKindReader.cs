using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;

namespace StateDict.Generator.Parsing
{
    /// <summary>
    /// The kind members of schema entries (docs/tensor-kinds.md, "Schema"): <c>"device": "meta"</c>; <c>"layout"</c>,
    /// <c>"of"</c>, <c>"component"</c> and <c>"dense_shape"</c> of a sparse tensor's component; <c>"quantized_dtype"</c>,
    /// <c>"qscheme"</c> and <c>"quantized_shape"</c> of a quantized tensor. Components are grouped into one entry per
    /// sparse tensor, under its own key, at the place of its first component.
    /// </summary>
    internal sealed class SchemaKindReader
    {
        private readonly string _path;
        private readonly SourceText _text;
        private readonly List<DiagnosticInfo> _diagnostics;
        private readonly Dictionary<SchemaTensor, SparseComponent> _components = new Dictionary<SchemaTensor, SparseComponent>();

        public SchemaKindReader(string path, SourceText text, List<DiagnosticInfo> diagnostics)
        {
            _path = path;
            _text = text;
            _diagnostics = diagnostics;
        }

        /// <summary>A sparse tensor's component as listed: its tensor's key, component name, layout and dense shape.</summary>
        private sealed record SparseComponent(string Owner, string Name, string Layout, EquatableArray<long> DenseShape);

        /// <summary><paramref name="tensor"/> with the kind its members give, or null (reported) when they are malformed.</summary>
        public SchemaTensor? Read(JsonObject spec, SchemaTensor tensor)
        {
            bool meta = spec["device"] is JsonString device && device.Value == "meta";
            string? layout = spec["layout"] is JsonString l && l.Value != "strided" ? l.Value : null;
            if (spec["layout"] is JsonNode layoutNode && !(layoutNode is JsonString))
            {
                return Bad(layoutNode, tensor.Key, "\"layout\" must be a string");
            }
            if (layout != null)
            {
                return meta || spec["quantized_dtype"] != null
                    ? Bad(spec["layout"]!, tensor.Key, "a sparse component cannot also be meta or quantized")
                    : ReadComponent(spec, tensor, layout);
            }
            if (spec["quantized_dtype"] is JsonNode quantized)
            {
                return meta ? Bad(quantized, tensor.Key, "a quantized tensor cannot also be meta") : ReadQuantized(spec, tensor, quantized);
            }
            return meta ? tensor with { Kind = TensorKind.Meta } : tensor;
        }

        /// <summary>Replaces the components of each sparse tensor by one entry for it; a tensor with a missing or inconsistent component is dropped (reported).</summary>
        public List<SchemaTensor> Group(List<SchemaTensor> tensors, ISet<string> denseKeys)
        {
            var groups = _components.GroupBy(c => c.Value.Owner).ToDictionary(g => g.Key, g => g.ToList());
            var grouped = new List<SchemaTensor>();
            var done = new HashSet<string>();
            foreach (var tensor in tensors)
            {
                if (!_components.TryGetValue(tensor, out var component))
                {
                    grouped.Add(tensor);
                }
                else if (done.Add(component.Owner) && Sparse(component.Owner, groups[component.Owner], denseKeys) is { } sparse)
                {
                    grouped.Add(sparse);
                }
            }
            return grouped;
        }

        private SchemaTensor? ReadComponent(JsonObject spec, SchemaTensor tensor, string layout)
        {
            if (!TensorKinds.IsLayout(layout))
            {
                return Bad(spec["layout"]!, tensor.Key, $"unknown layout '{layout}' (expected strided, {TensorKinds.LayoutNames})");
            }
            if (!(spec["of"] is JsonString of) || !(spec["component"] is JsonString name) || tensor.Key != of.Value + "." + name.Value
                || !TensorKinds.Components(layout).Contains(name.Value))
            {
                return Bad(spec["component"] ?? spec, tensor.Key,
                    $"a {layout} component needs \"of\" (its tensor's key) and \"component\" ({string.Join(", ", TensorKinds.Components(layout))}), with the key being OF.COMPONENT");
            }
            var denseShape = Shape(spec, "dense_shape");
            if (denseShape is null)
            {
                return Bad(spec["dense_shape"] ?? spec, tensor.Key,
                    "a sparse component needs \"dense_shape\", the sparse tensor's size (written by 'statedict schema'; regenerate the schema)");
            }
            _components.Add(tensor, new SparseComponent(of.Value, name.Value, layout, denseShape.Value));
            return tensor;
        }

        private SchemaTensor? ReadQuantized(JsonObject spec, SchemaTensor tensor, JsonNode quantized)
        {
            if (!(quantized is JsonString qdtype) || !TensorKinds.IsQuantizedDType(qdtype.Value))
            {
                return Bad(quantized, tensor.Key, $"\"quantized_dtype\" must be one of {TensorKinds.QuantizedDTypeNames}");
            }
            if (!(spec["qscheme"] is JsonString scheme) || !TensorKinds.IsQScheme(scheme.Value))
            {
                return Bad(spec["qscheme"] ?? spec, tensor.Key, $"a quantized tensor needs \"qscheme\", one of {TensorKinds.QSchemeNames}");
            }
            string repr = TensorKinds.ReprDType(qdtype.Value);
            if (tensor.DType != repr)
            {
                return Bad(spec["dtype"]!, tensor.Key, $"a {qdtype.Value} tensor's integer representation is {repr}, not {tensor.DType}");
            }
            var shape = spec["quantized_shape"] is null ? tensor.Shape : Shape(spec, "quantized_shape");
            if (shape is null)
            {
                return Bad(spec["quantized_shape"]!, tensor.Key, "\"quantized_shape\" must be an array of non-negative integers");
            }
            return tensor with { Kind = TensorKind.Quantized, Shape = shape.Value, QuantizedDType = qdtype.Value, QScheme = scheme.Value };
        }

        private SchemaTensor? Sparse(string owner, List<KeyValuePair<SchemaTensor, SparseComponent>> parts, ISet<string> denseKeys)
        {
            var first = parts[0];
            var names = TensorKinds.Components(first.Value.Layout);
            foreach (var part in parts.Skip(1))
            {
                if (part.Value.Layout != first.Value.Layout || !part.Value.DenseShape.Equals(first.Value.DenseShape))
                {
                    return Bad(part.Key.KeyLocation, part.Key.Key, $"its \"layout\" and \"dense_shape\" differ from those of '{first.Key.Key}', another component of '{owner}'");
                }
            }
            if (denseKeys.Contains(owner))
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.DuplicateKey, first.Key.KeyLocation, owner));
                return null;
            }
            var missing = names.Where(n => !parts.Any(p => p.Value.Name == n)).ToList();
            if (missing.Count > 0)
            {
                return Bad(first.Key.KeyLocation, first.Key.Key, $"the {first.Value.Layout} tensor '{owner}' has no {string.Join(", ", missing)} component in the schema");
            }
            var values = parts.First(p => p.Value.Name == "values").Key;
            return new SchemaTensor(owner, values.DType, first.Value.DenseShape, first.Key.KeyLocation) { Kind = TensorKind.Sparse, Layout = first.Value.Layout };
        }

        private static EquatableArray<long>? Shape(JsonObject spec, string member) =>
            spec[member] is JsonArray array ? SchemaParser.Dims(array, out _) : null;

        private SchemaTensor? Bad(JsonNode node, string key, string problem) => Bad(LocationInfo.In(_path, _text, node.Start, node.Length), key, problem);

        private SchemaTensor? Bad(LocationInfo location, string key, string problem)
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadKindEntry, location, key, problem));
            return null;
        }
    }
}
