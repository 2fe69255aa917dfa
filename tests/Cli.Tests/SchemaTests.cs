using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary><c>statedict schema FILE [-o OUT] [--prefix P]</c> writes the generator's schema: keys in file order, dtype and shape each.</summary>
public class SchemaTests
{
    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Schema_lists_every_tensor_in_file_order_with_dtype_and_shape(string name)
    {
        var result = CliRun.Run("schema", Fixtures.PathOf(name));

        CliRun.Succeeded(result);
        AssertSchema(Fixtures.ExpectedFor(name).Tensors, result.Stdout);
    }

    [Fact]
    public void Schema_output_option_writes_the_same_schema_to_a_file()
    {
        using var temp = new TempDirectory();
        string output = temp.File("mlp.schema.json");

        var result = CliRun.Run("schema", Fixtures.PathOf("mlp.pth"), "-o", output);

        CliRun.Succeeded(result);
        Assert.Equal("", result.Stdout);
        Assert.True(File.Exists(output));
        Assert.Equal(CliRun.Run("schema", Fixtures.PathOf("mlp.pth")).Stdout, File.ReadAllText(output));
        AssertSchema(Fixtures.ExpectedFor("mlp.pth").Tensors, File.ReadAllText(output));
    }

    [Fact]
    public void Schema_long_output_option_is_accepted()
    {
        using var temp = new TempDirectory();
        string output = temp.File("views.schema.json");

        CliRun.Succeeded(CliRun.Run("schema", Fixtures.PathOf("views.pth"), "--output", output));

        AssertSchema(Fixtures.ExpectedFor("views.pth").Tensors, File.ReadAllText(output));
    }

    [Fact]
    public void Schema_with_prefix_selects_the_model_keys_without_the_prefix()
    {
        var model = Fixtures.ExpectedFor("checkpoint.pth").Tensors
            .Where(t => t.Key.StartsWith("model.", StringComparison.Ordinal))
            .Select(t => t with { Key = t.Key["model.".Length..] })
            .ToList();

        var result = CliRun.Run("schema", Fixtures.PathOf("checkpoint.pth"), "--prefix", "model.");

        CliRun.Succeeded(result);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], model.Select(t => t.Key));
        AssertSchema(model, result.Stdout);
    }

    [Fact]
    public void Schema_into_a_missing_directory_exits_1()
    {
        using var temp = new TempDirectory();
        string output = Path.Combine(temp.Path, "no", "such", "dir", "x.schema.json");

        CliRun.FailedWith(1, CliRun.Run("schema", Fixtures.PathOf("mlp.pth"), "-o", output));
    }

    [Fact]
    public void Schema_with_a_prefix_that_selects_nothing_exits_1()
    {
        CliRun.FailedWith(1, CliRun.Run("schema", Fixtures.PathOf("checkpoint.pth"), "--prefix", "nothing."));
    }

    /// <summary>The text is {"format":"statedict-schema/1","tensors":{key:{dtype,shape}}} with exactly these tensors in order.</summary>
    private static void AssertSchema(IReadOnlyList<ExpectedTensor> expected, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(["format", "tensors"], CliRun.PropertyNames(root));
        Assert.Equal("statedict-schema/1", root.GetProperty("format").GetString());
        var tensors = root.GetProperty("tensors").EnumerateObject().ToList();
        Assert.Equal(expected.Select(t => t.Key), tensors.Select(t => t.Name));
        foreach (var (want, got) in expected.Zip(tensors))
        {
            Assert.Equal(["dtype", "shape"], CliRun.PropertyNames(got.Value));
            Assert.Equal(want.DType, got.Value.GetProperty("dtype").GetString());
            Assert.Equal(want.Shape, got.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
        }
    }
}
