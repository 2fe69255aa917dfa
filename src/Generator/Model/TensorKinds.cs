using System.Collections.Generic;

namespace StateDict.Generator.Model
{
    /// <summary>What a schema entry holds, and so the property type that binds it.</summary>
    internal enum TensorKind
    {
        /// <summary>A dense tensor: <c>TensorView&lt;T&gt;</c>.</summary>
        Dense,

        /// <summary>A sparse tensor (its components grouped under its own key): <c>SparseTensor&lt;T&gt;</c> of its values' element type.</summary>
        Sparse,

        /// <summary>A quantized tensor: <c>QuantizedTensor</c>.</summary>
        Quantized,

        /// <summary>A meta tensor, shape only: <c>TensorInfo</c>.</summary>
        Meta,
    }

    /// <summary>
    /// PyTorch's names of sparse layouts, quantized dtypes and qschemes with the runtime's enum members (mirrors
    /// StateDict.TensorLayout, QuantizedDType and QScheme, which an analyzer cannot reference), and the property types of each kind.
    /// </summary>
    internal static class TensorKinds
    {
        private const string Ns = "global::StateDict.";

        /// <summary>layout name → (TensorLayout member, component names in the order torch pickles them).</summary>
        private static readonly Dictionary<string, (string Member, string[] Components)> Layouts = new Dictionary<string, (string, string[])>
        {
            ["sparse_coo"] = ("SparseCoo", new[] { "indices", "values" }),
            ["sparse_csr"] = ("SparseCsr", new[] { "crow_indices", "col_indices", "values" }),
            ["sparse_csc"] = ("SparseCsc", new[] { "ccol_indices", "row_indices", "values" }),
            ["sparse_bsr"] = ("SparseBsr", new[] { "crow_indices", "col_indices", "values" }),
            ["sparse_bsc"] = ("SparseBsc", new[] { "ccol_indices", "row_indices", "values" }),
        };

        /// <summary>quantized dtype name → (QuantizedDType member, dtype of its integer representation).</summary>
        private static readonly Dictionary<string, (string Member, string Repr)> QuantizedDTypes = new Dictionary<string, (string, string)>
        {
            ["qint8"] = ("QInt8", "int8"),
            ["quint8"] = ("QUInt8", "uint8"),
            ["qint32"] = ("QInt32", "int32"),
            ["quint4x2"] = ("QUInt4x2", "uint8"),
            ["quint2x4"] = ("QUInt2x4", "uint8"),
        };

        private static readonly Dictionary<string, string> QSchemes = new Dictionary<string, string>
        {
            ["per_tensor_affine"] = "PerTensorAffine",
            ["per_channel_affine"] = "PerChannelAffine",
            ["per_channel_affine_float_qparams"] = "PerChannelAffineFloatQParams",
        };

        public static bool IsLayout(string name) => Layouts.ContainsKey(name);

        public static string LayoutMember(string name) => Layouts[name].Member;

        public static IReadOnlyList<string> Components(string layout) => Layouts[layout].Components;

        public static string LayoutNames => string.Join(", ", Layouts.Keys);

        public static bool IsQuantizedDType(string name) => QuantizedDTypes.ContainsKey(name);

        public static string QuantizedDTypeMember(string name) => QuantizedDTypes[name].Member;

        /// <summary>The dtype a quantized dtype's integer representation is listed with (int8, uint8, int32).</summary>
        public static string ReprDType(string name) => QuantizedDTypes[name].Repr;

        public static string QuantizedDTypeNames => string.Join(", ", QuantizedDTypes.Keys);

        public static bool IsQScheme(string name) => QSchemes.ContainsKey(name);

        public static string QSchemeMember(string name) => QSchemes[name];

        public static string QSchemeNames => string.Join(", ", QSchemes.Keys);

        /// <summary>The fully qualified property type of a tensor of <paramref name="kind"/> whose element type is <paramref name="elementType"/>.</summary>
        public static string PropertyType(TensorKind kind, string elementType) => kind switch
        {
            TensorKind.Sparse => $"{Ns}SparseTensor<{elementType}>",
            TensorKind.Quantized => $"{Ns}QuantizedTensor",
            TensorKind.Meta => $"{Ns}TensorInfo",
            _ => $"{Ns}TensorView<{elementType}>",
        };

        /// <summary>The property type a schema tensor binds to, as messages write it (<c>SparseTensor&lt;float&gt;</c>, <c>QuantizedTensor</c>, ...).</summary>
        public static string ShortPropertyType(SchemaTensor tensor) => tensor.Kind switch
        {
            TensorKind.Sparse => $"SparseTensor<{DTypes.ShortElementType(tensor.DType)}>",
            TensorKind.Quantized => "QuantizedTensor",
            TensorKind.Meta => "TensorInfo",
            _ => $"TensorView<{DTypes.ShortElementType(tensor.DType)}>",
        };

        /// <summary>What a schema tensor is, for messages and docs: <c>a sparse_coo tensor of float32</c>, <c>a quantized qint8 tensor (per_tensor_affine)</c>, ...</summary>
        public static string Describe(SchemaTensor tensor) => tensor.Kind switch
        {
            TensorKind.Sparse => $"a {tensor.Layout} tensor of {tensor.DType}",
            TensorKind.Quantized => $"a quantized {tensor.QuantizedDType} tensor ({tensor.QScheme})",
            TensorKind.Meta => $"a meta tensor (no data) of {tensor.DType}",
            _ => $"a dense {tensor.DType} tensor",
        };

        /// <summary>The doc of a bound tensor: key pattern, then kind, dtype and shapes.</summary>
        public static string Doc(string keyPattern, SchemaTensor tensor, string shapes) => tensor.Kind switch
        {
            TensorKind.Sparse => $"<c>{keyPattern}</c>: {tensor.Layout} {tensor.DType} {shapes}",
            TensorKind.Quantized => $"<c>{keyPattern}</c>: quantized {tensor.QuantizedDType} {tensor.QScheme} {shapes}",
            TensorKind.Meta => $"<c>{keyPattern}</c>: meta {tensor.DType} {shapes}, no data",
            _ => $"<c>{keyPattern}</c>: {tensor.DType} {shapes}",
        };

        /// <summary>Whether tensors of two list items can share one member: same kind, dtype and kind details.</summary>
        public static string Signature(SchemaTensor tensor) => string.Join("|", new[] { tensor.Kind.ToString(), tensor.DType, tensor.Layout ?? "", tensor.QuantizedDType ?? "", tensor.QScheme ?? "" });

        /// <summary>The initializer a generated <c>SchemaEntry</c> needs for its kind (empty for a dense one).</summary>
        public static string EntryInitializer(SchemaEntrySpec entry)
        {
            var parts = new List<string>();
            if (entry.Layout != null)
            {
                parts.Add($"Layout = {Ns}TensorLayout.{LayoutMember(entry.Layout)}");
            }
            if (entry.QuantizedDType != null)
            {
                parts.Add($"QuantizedDType = {Ns}QuantizedDType.{QuantizedDTypeMember(entry.QuantizedDType)}");
                parts.Add($"QScheme = {Ns}QScheme.{QSchemeMember(entry.QScheme!)}");
            }
            if (entry.IsMeta)
            {
                parts.Add("IsMeta = true");
            }
            return parts.Count == 0 ? "" : " { " + string.Join(", ", parts) + " }";
        }

        /// <summary>The schema entry of a tensor: key (under <paramref name="key"/> when bound relative to a module), dtype member, shape and kind.</summary>
        public static SchemaEntrySpec Entry(SchemaTensor tensor, string? key = null) =>
            new SchemaEntrySpec(key ?? tensor.Key, DTypes.Member(tensor.DType), tensor.Shape)
            {
                Layout = tensor.Layout,
                QuantizedDType = tensor.QuantizedDType,
                QScheme = tensor.QScheme,
                IsMeta = tensor.Kind == TensorKind.Meta,
            };
    }
}
