using Microsoft.CodeAnalysis.Testing;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Tests.Infrastructure;
using static StateDict.Generator.Tests.Infrastructure.StateDictGeneratorTest;

namespace StateDict.Generator.Tests;

/// <summary>
/// A property whose type does not fit the kind of its key is SD0052 (at the type), Chunk or Fallback on a sparse,
/// quantized or meta tensor SD0053, a sparse component bound on its own SD0013 naming the tensor to bind, and ConvertTo
/// over sparse or quantized tensors the SD0051 warning (at the schema entry).
/// </summary>
public class TensorKindDiagnosticTests
{
    private static readonly (string, string)[] Kinds = [("m.schema.json", TestSchemas.Kinds)];

    private static string Net(string member) => $$"""
        using StateDict;
        [StateDictSchema("m.schema.json", Ignore = new[] { "*" })]
        internal partial class Net
        {
            {{member}}
        }
        """;

    [Theory]
    [InlineData("adj", "TensorView<float>", "a sparse_coo tensor of float32", "SparseTensor<float>")]
    [InlineData("csr", "SparseTensor<float>", "a sparse_csr tensor of float16", "SparseTensor<Half>")]
    [InlineData("fc.weight", "TensorView<float>", "a quantized qint8 tensor (per_channel_affine)", "QuantizedTensor")]
    [InlineData("emb", "TensorView<byte>", "a quantized quint4x2 tensor (per_tensor_affine)", "QuantizedTensor")]
    [InlineData("ghost", "TensorView<float>", "a meta tensor (no data) of float32", "TensorInfo")]
    [InlineData("fc.bias", "QuantizedTensor", "a dense float32 tensor", "TensorView<float>")]
    [InlineData("fc.bias", "TensorInfo", "a dense float32 tensor", "TensorView<float>")]
    [InlineData("fc.bias", "SparseTensor<float>", "a dense float32 tensor", "TensorView<float>")]
    public Task SD0052_the_property_type_must_be_that_of_the_kind(string key, string declared, string kind, string required) =>
        VerifyGeneratorAsync(Net($"[TensorKey(\"{key}\")] public partial {{|#0:{declared}|}} P {{ get; }}"), Kinds,
            Diagnostic(Descriptors.TensorKindMismatch).WithLocation(0).WithArguments(key, kind, required, declared));

    [Fact]
    public Task SD0053_Fallback_on_a_quantized_tensor() =>
        VerifyGeneratorAsync(Net("[TensorKey(\"absent\", {|#0:Fallback = \"emb\"|})] public partial QuantizedTensor P { get; }"), Kinds,
            Diagnostic(Descriptors.KindOption).WithLocation(0).WithArguments("Fallback", "emb", "a quantized quint4x2 tensor (per_tensor_affine)"));

    [Fact]
    public Task SD0053_Chunk_on_a_sparse_tensor() =>
        VerifyGeneratorAsync(Net("[TensorKey(\"adj\", Chunk = 0, {|#0:Chunks = 2|})] public partial SparseTensor<float> P { get; }"), Kinds,
            Diagnostic(Descriptors.KindOption).WithLocation(0).WithArguments("Chunk", "adj", "a sparse_coo tensor of float32"));

    [Fact]
    public Task SD0013_a_sparse_component_names_the_tensor_to_bind() =>
        VerifyGeneratorAsync(Net("[TensorKey({|#0:\"adj.values\"|})] public partial TensorView<float> P { get; }"), Kinds,
            Diagnostic(Descriptors.UnknownTensorKey).WithLocation(0).WithArguments("adj.values", "m.schema.json",
                "; it is a component of the sparse_coo tensor 'adj': bind 'adj' as SparseTensor<float>"));

    [Fact]
    public Task SD0013_a_meta_tensor_is_a_key_now() =>
        VerifyGeneratorAsync(Net("[TensorKey(\"ghost\")] public partial TensorInfo P { get; }"), Kinds);

    [Fact]
    public Task SD0051_ConvertTo_leaves_quantized_tensors_and_sparse_float16_values_as_they_are() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json", ConvertTo = typeof(float))]
            internal partial class Net;
            """, Kinds,
            Warning("csr", 6, "a sparse_csr tensor of float16", "SparseTensor<Half>"),
            Warning("fc.weight", 9, "a quantized qint8 tensor (per_channel_affine)", "QuantizedTensor (Dequantize() gives float32)"),
            Warning("emb", 11, "a quantized quint4x2 tensor (per_tensor_affine)", "QuantizedTensor (Dequantize() gives float32)"),
            Warning("layers.0.weight", 13, "a quantized qint8 tensor (per_tensor_affine)", "QuantizedTensor (Dequantize() gives float32)"),
            Warning("layers.1.weight", 15, "a quantized qint8 tensor (per_tensor_affine)", "QuantizedTensor (Dequantize() gives float32)"));

    private static DiagnosticResult Warning(string key, int line, string kind, string boundAs)
    {
        string name = key == "csr" ? "csr.crow_indices" : key;
        return Diagnostic(Descriptors.ConvertToSkipsKind).WithSpan("/0/m.schema.json", line, 5, line, 7 + name.Length).WithArguments(key, kind, boundAs);
    }
}
