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

    private static string? Text(JsonElement entry, string member) => entry.GetProperty(member).GetString();
}
