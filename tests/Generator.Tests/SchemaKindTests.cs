using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>
/// Schema entries of the tensor kinds: a sparse tensor's components become one entry under its key (values' dtype, dense
/// shape), a quantized entry keeps its representation's dtype and takes its logical shape, a meta entry is kept as such;
/// malformed kind members are SD0050 at the member. The newest dtypes are known names.
/// </summary>
public class SchemaKindTests
{
    private static SchemaFile Parse(string tensors) => SchemaParser.Parse("/proj/k.schema.json",
        SourceText.From("{\"format\": \"statedict-schema/1\", \"tensors\": {" + tensors + "}}"), default);

    private static string Coo(string component, string dtype, string shape, string denseShape = "[3, 4]", string layout = "sparse_coo", string of = "adj") =>
        $"\"{of}.{component}\": {{\"dtype\": \"{dtype}\", \"shape\": {shape}, \"layout\": \"{layout}\", \"of\": \"{of}\", \"component\": \"{component}\", \"dense_shape\": {denseShape}}}";

    [Fact]
    public void A_meta_tensor_entry_is_kept_as_a_meta_tensor()
    {
        var schema = Parse("""
            "w": {"dtype": "float32", "shape": [3, 4], "device": "meta"},
            "b": {"dtype": "float32", "shape": [4]}
            """);

        Assert.Empty(schema.Diagnostics);
        Assert.Equal([("w", TensorKind.Meta), ("b", TensorKind.Dense)], schema.Tensors.Select(t => (t.Key, t.Kind)));
        Assert.Equal([3L, 4L], schema.Tensors[0].Shape);
    }

    [Fact]
    public void Sparse_components_become_one_entry_at_the_place_of_the_first()
    {
        var schema = SchemaParser.Parse("/proj/k.schema.json", SourceText.From(TestSchemas.Kinds), default);

        Assert.Empty(schema.Diagnostics);
        Assert.Equal(["adj", "csr", "fc.weight", "fc.bias", "emb", "ghost", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"],
            schema.Tensors.Select(t => t.Key));
        var csr = schema.Tensors[1];
        Assert.Equal((TensorKind.Sparse, "sparse_csr", "float16"), (csr.Kind, csr.Layout, csr.DType));
        Assert.Equal([3L, 5L], csr.Shape);
    }

    [Fact]
    public void A_quantized_entry_takes_its_logical_shape()
    {
        var schema = SchemaParser.Parse("/proj/k.schema.json", SourceText.From(TestSchemas.Kinds), default);

        var emb = schema.Tensors.Single(t => t.Key == "emb");
        Assert.Equal((TensorKind.Quantized, "quint4x2", "per_tensor_affine", "uint8"), (emb.Kind, emb.QuantizedDType, emb.QScheme, emb.DType));
        Assert.Equal([3L, 5L], emb.Shape);
    }

    [Fact]
    public void A_quantized_entry_without_a_quantized_shape_takes_its_shape()
    {
        var schema = Parse("""
            "q": {"dtype": "int32", "shape": [2], "quantized_dtype": "qint32", "qscheme": "per_tensor_affine"}
            """);

        Assert.Empty(schema.Diagnostics);
        Assert.Equal([2L], schema.Tensors.Single().Shape);
    }

    [Theory]
    [InlineData("\"adj.indices\": {\"dtype\": \"int64\", \"shape\": [2, 4], \"layout\": \"sparse_abc\", \"of\": \"adj\", \"component\": \"indices\", \"dense_shape\": [3, 4]}",
        "adj.indices", "unknown layout 'sparse_abc' (expected strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)")]
    [InlineData("\"adj.indices\": {\"dtype\": \"int64\", \"shape\": [2, 4], \"layout\": \"sparse_coo\", \"of\": \"adj\", \"component\": \"indices\"}",
        "adj.indices", "a sparse component needs \"dense_shape\", the sparse tensor's size (written by 'statedict schema'; regenerate the schema)")]
    [InlineData("\"adj.idx\": {\"dtype\": \"int64\", \"shape\": [2, 4], \"layout\": \"sparse_coo\", \"of\": \"adj\", \"component\": \"idx\", \"dense_shape\": [3, 4]}",
        "adj.idx", "a sparse_coo component needs \"of\" (its tensor's key) and \"component\" (indices, values), with the key being OF.COMPONENT")]
    [InlineData("\"q\": {\"dtype\": \"int8\", \"shape\": [2], \"quantized_dtype\": \"quint8\", \"qscheme\": \"per_tensor_affine\"}",
        "q", "a quint8 tensor's integer representation is uint8, not int8")]
    [InlineData("\"q\": {\"dtype\": \"int8\", \"shape\": [2], \"quantized_dtype\": \"qint8\"}",
        "q", "a quantized tensor needs \"qscheme\", one of per_tensor_affine, per_channel_affine, per_channel_affine_float_qparams")]
    [InlineData("\"q\": {\"dtype\": \"int8\", \"shape\": [2], \"quantized_dtype\": \"qint4\", \"qscheme\": \"per_tensor_affine\"}",
        "q", "\"quantized_dtype\" must be one of qint8, quint8, qint32, quint4x2, quint2x4")]
    [InlineData("\"q\": {\"dtype\": \"int8\", \"shape\": [2], \"quantized_dtype\": \"qint8\", \"qscheme\": \"per_tensor_affine\", \"device\": \"meta\"}",
        "q", "a quantized tensor cannot also be meta")]
    public void Malformed_kind_members_are_SD0050_and_drop_the_entry(string entry, string key, string problem)
    {
        var schema = Parse(entry + ", \"b\": {\"dtype\": \"float32\", \"shape\": [4]}");

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal(Descriptors.BadKindEntry.Id, diagnostic.Id);
        Assert.Equal([key, problem], diagnostic.Arguments);
        Assert.Equal(["b"], schema.Tensors.Select(t => t.Key));
    }

    [Fact]
    public void A_sparse_tensor_missing_a_component_is_SD0050_at_its_first_component()
    {
        var text = SourceText.From("{\"format\": \"statedict-schema/1\", \"tensors\": {" + Coo("indices", "int64", "[2, 4]") + "}}");
        var schema = SchemaParser.Parse("/proj/k.schema.json", text, default);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal(["adj.indices", "the sparse_coo tensor 'adj' has no values component in the schema"], diagnostic.Arguments);
        Assert.Contains("adj.indices", text.ToString(diagnostic.Location!.Span), StringComparison.Ordinal);
        Assert.Empty(schema.Tensors);
    }

    [Fact]
    public void Components_that_disagree_on_the_dense_shape_are_SD0050()
    {
        var schema = Parse(Coo("indices", "int64", "[2, 4]") + ", " + Coo("values", "float32", "[4]", denseShape: "[3, 5]"));

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal(["adj.values", "its \"layout\" and \"dense_shape\" differ from those of 'adj.indices', another component of 'adj'"], diagnostic.Arguments);
    }

    [Fact]
    public void A_sparse_tensor_whose_key_is_also_a_dense_entry_is_a_duplicate_key()
    {
        var schema = Parse("\"adj\": {\"dtype\": \"float32\", \"shape\": [2]}, " + Coo("indices", "int64", "[2, 4]") + ", " + Coo("values", "float32", "[4]"));

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal(Descriptors.DuplicateKey.Id, diagnostic.Id);
        Assert.Equal(["adj"], diagnostic.Arguments);
    }

    [Theory]
    [InlineData("complex32", "global::StateDict.Complex32")]
    [InlineData("chalf", "global::StateDict.Complex32")]
    [InlineData("float8_e8m0fnu", "global::StateDict.Float8E8M0FNU")]
    [InlineData("float8_e4m3fnuz", "global::StateDict.Float8E4M3FNUZ")]
    [InlineData("float8_e5m2fnuz", "global::StateDict.Float8E5M2FNUZ")]
    [InlineData("float4_e2m1fn_x2", "global::StateDict.Float4E2M1FNx2")]
    [InlineData("float6_e3m2fn_x4", "global::StateDict.Float6E3M2x4")]
    public void The_newest_dtypes_bind_to_their_element_types(string name, string elementType)
    {
        Assert.True(DTypes.TryCanonical(name, out var canonical));
        Assert.Equal(elementType, DTypes.ElementType(canonical));
    }
}
