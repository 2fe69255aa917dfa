using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary><c>statedict inspect FILE --json [--hash]</c> prints the DESIGN.md shape, matching what PyTorch recorded.</summary>
public class InspectJsonTests
{
    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Json_with_hash_has_exactly_file_format_tensors_and_values(string name)
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf(name), "--json", "--hash");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal(["file", "format", "tensors", "values"], CliRun.PropertyNames(root));
        Assert.Equal(Path.GetFileName(name), root.GetProperty("file").GetString());
        Assert.Equal(Fixtures.ExpectedFor(name).Format, root.GetProperty("format").GetString());
    }

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Json_with_hash_lists_every_tensor_in_file_order_as_PyTorch_recorded_it(string name)
    {
        var expected = Fixtures.ExpectedFor(name);

        var result = CliRun.Run("inspect", Fixtures.PathOf(name), "--json", "--hash");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(expected.Tensors.Count, tensors.Count);
        foreach (var (want, got) in expected.Tensors.Zip(tensors))
        {
            Assert.Equal(["key", "dtype", "shape", "sha256"], CliRun.PropertyNames(got));
            Assert.Equal(want.Key, got.GetProperty("key").GetString());
            Assert.Equal(want.DType, got.GetProperty("dtype").GetString());
            Assert.Equal(want.Shape, got.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
            Assert.Equal(want.Sha256, got.GetProperty("sha256").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Json_values_equal_the_values_PyTorch_recorded(string name)
    {
        var expected = Fixtures.ExpectedFor(name);

        var result = CliRun.Run("inspect", Fixtures.PathOf(name), "--json", "--hash");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        var values = doc.RootElement.GetProperty("values");
        Assert.Equal(JsonValueKind.Object, values.ValueKind);
        Assert.Equal(expected.Values.Select(v => v.Key), CliRun.PropertyNames(values));
        foreach (var (key, want) in expected.Values)
        {
            CliRun.JsonEquivalent(want, values.GetProperty(key), key);
        }
    }

    [Fact]
    public void Json_values_keep_python_types()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("checkpoint.pth"), "--json");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        var values = doc.RootElement.GetProperty("values");
        Assert.Equal(7, values.GetProperty("epoch").GetInt64());
        Assert.Equal(0.91, values.GetProperty("best_acc").GetDouble());
        Assert.Equal("mlp", values.GetProperty("config.name").GetString());
        Assert.Equal(JsonValueKind.Null, values.GetProperty("optimizer.param_groups.0.foreach").ValueKind);
        Assert.Equal(JsonValueKind.False, values.GetProperty("optimizer.param_groups.0.nesterov").ValueKind);
    }

    [Fact]
    public void Json_without_hash_has_no_sha256()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("mlp.pth"), "--json");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.All(doc.RootElement.GetProperty("tensors").EnumerateArray(),
            t => Assert.Equal(["key", "dtype", "shape"], CliRun.PropertyNames(t)));
    }

    [Fact]
    public void Json_file_is_the_file_name_without_its_directory()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("views.pth"), "--json");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("views.pth", doc.RootElement.GetProperty("file").GetString());
    }

    [Fact]
    public void Json_with_a_prefix_lists_the_selected_keys_without_it()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("checkpoint.pth"), "--json", "--prefix", "model.");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
            doc.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("key").GetString()));
        Assert.Empty(doc.RootElement.GetProperty("values").EnumerateObject());
    }
}
