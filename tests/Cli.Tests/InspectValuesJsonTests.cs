using System.Numerics;
using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary>
/// <c>inspect --json</c> values are valid JSON that keeps Python's types apart (docs/values.md): non-finite floats,
/// bytes and complex numbers are tagged objects, so they never look like the strings "Infinity" or "NaN".
/// </summary>
public sealed class InspectValuesJsonTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"statedict-values-{Guid.NewGuid():N}.pth");

    public void Dispose() => File.Delete(_path);

    private JsonElement Values()
    {
        new StateDictWriter()
            .Add<float>("w", [1], [1f])
            .AddValue("inf", double.PositiveInfinity).AddValue("minus_inf", double.NegativeInfinity).AddValue("nan", double.NaN)
            .AddValue("inf_text", "Infinity").AddValue("nan_text", "NaN")
            .AddValue("raw", new byte[] { 0, 255 }).AddValue("z", new Complex(1.5, double.NegativeInfinity))
            .Save(_path);
        var result = CliRun.Run("inspect", _path, "--json");
        CliRun.Succeeded(result);
        return JsonDocument.Parse(result.Stdout).RootElement.GetProperty("values").Clone();
    }

    [Fact]
    public void Non_finite_floats_are_tagged_and_unlike_the_strings()
    {
        var values = Values();

        Assert.Equal("inf", values.GetProperty("inf").GetProperty("$float").GetString());
        Assert.Equal("-inf", values.GetProperty("minus_inf").GetProperty("$float").GetString());
        Assert.Equal("nan", values.GetProperty("nan").GetProperty("$float").GetString());
        Assert.Equal("Infinity", values.GetProperty("inf_text").GetString());
        Assert.Equal("NaN", values.GetProperty("nan_text").GetString());
    }

    [Fact]
    public void Bytes_and_complex_numbers_are_tagged()
    {
        var values = Values();

        Assert.Equal(new byte[] { 0, 255 }, values.GetProperty("raw").GetProperty("$bytes").GetBytesFromBase64());
        var z = values.GetProperty("z").GetProperty("$complex").EnumerateArray().ToList();
        Assert.Equal(1.5, z[0].GetDouble());
        Assert.Equal("-inf", z[1].GetProperty("$float").GetString());
    }

    [Fact]
    public void Lone_surrogates_are_escaped_as_Python_json_writes_them()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("kinds/surrogates.pth"), "--json");

        CliRun.Succeeded(result);
        Assert.Contains("\"lone\": \"a\\ud800b\"", result.Stdout);
        Assert.Contains("\"low\": \"\\udfff\"", result.Stdout);
    }

    [Fact]
    public void Meta_tensors_are_listed_with_their_device_and_no_sha256()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("kinds/meta.pth"), "--json", "--hash");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!);
        Assert.Equal(["key", "dtype", "shape", "device"], CliRun.PropertyNames(tensors["weight"]));
        Assert.Equal("meta", tensors["weight"].GetProperty("device").GetString());
        Assert.Equal(["key", "dtype", "shape", "sha256"], CliRun.PropertyNames(tensors["real"]));
    }

    [Fact]
    public void The_schema_marks_meta_tensors()
    {
        var result = CliRun.Run("schema", Fixtures.PathOf("kinds/meta.pth"));

        CliRun.Succeeded(result);
        Assert.Contains("\"weight\": {\"dtype\": \"float32\", \"shape\": [3, 4], \"device\": \"meta\"}", result.Stdout);
        Assert.Contains("\"real\": {\"dtype\": \"float32\", \"shape\": [2]}", result.Stdout);
    }
}
