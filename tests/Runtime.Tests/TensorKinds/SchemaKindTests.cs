using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>The schema JSON (what <c>statedict schema</c> writes for the generator) says which entries are sparse components or quantized.</summary>
public class SchemaKindTests
{
    [Fact]
    public void Sparse_components_carry_layout_owner_and_component()
    {
        var tensors = Schema("kinds/sparse.pth");
        var indices = tensors.GetProperty("coo.indices");
        Assert.Equal(("int64", "sparse_coo", "coo", "indices"), (Text(indices, "dtype"), Text(indices, "layout"), Text(indices, "of"), Text(indices, "component")));
        Assert.Equal("sparse_csr", Text(tensors.GetProperty("csr.crow_indices"), "layout"));
        Assert.Equal(["dtype", "shape"], tensors.GetProperty("dense").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Quantized_tensors_carry_their_dtype_qscheme_and_axis_without_per_channel_parameter_entries()
    {
        var tensors = Schema("kinds/quantized.pth");
        var perTensor = tensors.GetProperty("qint8");
        Assert.Equal(("int8", "qint8", "per_tensor_affine"), (Text(perTensor, "dtype"), Text(perTensor, "quantized_dtype"), Text(perTensor, "qscheme")));
        Assert.False(perTensor.TryGetProperty("axis", out _));
        var perChannel = tensors.GetProperty("per_channel_axis1");
        Assert.Equal(("quint8", "per_channel_affine", 1), (Text(perChannel, "quantized_dtype"), Text(perChannel, "qscheme"), perChannel.GetProperty("axis").GetInt32()));
        Assert.Equal("per_channel_affine_float_qparams", Text(tensors.GetProperty("float_qparams"), "qscheme"));
        // KEY.scales / KEY.zero_points would make KEY both a tensor and a module for the generator (SD0007).
        Assert.False(tensors.TryGetProperty("per_channel.scales", out _));
        Assert.False(tensors.TryGetProperty("per_channel.zero_points", out _));
    }

    [Theory]
    [InlineData("kinds/sparse.pth")]
    [InlineData("kinds/sparse_torch2.pth")]
    public void Every_sparse_component_carries_the_dense_shape_torch_reports(string name)
    {
        var tensors = Schema(name);
        foreach (var sparse in ExpectedKinds(name, "sparse"))
        {
            var components = tensors.EnumerateObject().Where(p => p.Value.TryGetProperty("of", out var of) && of.GetString() == sparse.GetProperty("key").GetString()).ToList();
            Assert.NotEmpty(components);
            Assert.All(components, c => Assert.Equal(Dims(sparse.GetProperty("shape")), Dims(c.Value.GetProperty("dense_shape"))));
        }
    }

    [Theory]
    [InlineData("kinds/quantized.pth")]
    [InlineData("kinds/quantized_model.pth")]
    public void Every_quantized_tensor_carries_the_logical_shape_torch_reports(string name)
    {
        var tensors = Schema(name);
        var expected = ExpectedKinds(name, "quantized").ToList();
        Assert.NotEmpty(expected);
        foreach (var quantized in expected)
        {
            var entry = tensors.GetProperty(quantized.GetProperty("key").GetString()!);
            Assert.Equal(Dims(quantized.GetProperty("shape")), Dims(entry.GetProperty("quantized_shape")));
        }
        if (name == "kinds/quantized.pth")
        {
            Assert.Equal([8L], Dims(tensors.GetProperty("quint4x2").GetProperty("shape"))); // the packed bytes, as int_repr() gives them
        }
    }

    [Theory]
    [InlineData("kinds/quantized.pth")]
    [InlineData("kinds/quantized_model.pth")]
    [InlineData("kinds/sparse.pth")]
    public void No_entry_is_both_a_tensor_and_a_module_for_the_generator(string name)
    {
        var keys = Schema(name).EnumerateObject().Select(p => p.Name).ToList();
        Assert.DoesNotContain(keys, key => keys.Any(other => other.StartsWith(key + ".", StringComparison.Ordinal)));
    }

    private static JsonElement Schema(string name)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name));
        return JsonDocument.Parse(SchemaJson.Write(checkpoint)).RootElement.GetProperty("tensors").Clone();
    }

    private static IEnumerable<JsonElement> ExpectedKinds(string name, string section)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf(name + ".expected.json")));
        return doc.RootElement.GetProperty(section).EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static long[] Dims(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    private static string? Text(JsonElement entry, string member) => entry.GetProperty(member).GetString();
}
