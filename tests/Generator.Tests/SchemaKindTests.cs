using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;

namespace StateDict.Generator.Tests;

/// <summary>Schema entries for the tensor kinds: meta tensors get no property; the newest dtypes are known names.</summary>
public class SchemaKindTests
{
    private static SchemaFile Parse(string tensors) => SchemaParser.Parse("/proj/k.schema.json",
        SourceText.From("{\"format\": \"statedict-schema/1\", \"tensors\": {" + tensors + "}}"), default);

    [Fact]
    public void A_meta_tensor_entry_is_skipped_without_a_diagnostic()
    {
        var schema = Parse("""
            "w": {"dtype": "float32", "shape": [3, 4], "device": "meta"},
            "b": {"dtype": "float32", "shape": [4]}
            """);

        Assert.Empty(schema.Diagnostics);
        Assert.Equal(["b"], schema.Tensors.Select(t => t.Key));
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
