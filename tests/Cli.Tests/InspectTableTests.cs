using System.Globalization;
using System.Text.RegularExpressions;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary><c>statedict inspect FILE [--hash]</c> prints an aligned table: key, dtype, shape, bytes (and sha256), then totals.</summary>
public class InspectTableTests
{
    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Table_has_one_row_per_tensor_with_key_dtype_shape_and_bytes(string name)
    {
        var expected = Fixtures.ExpectedFor(name);

        var result = CliRun.Run("inspect", Fixtures.PathOf(name));

        CliRun.Succeeded(result);
        var lines = Lines(result.Stdout);
        foreach (var tensor in expected.Tensors)
        {
            string row = $@"^{Regex.Escape(tensor.Key)}\s+{tensor.DType}\s+{Regex.Escape(Shape(tensor.Shape))}\s+{Regex.Escape(Bytes(tensor).ToString("N0", CultureInfo.InvariantCulture))}$";
            Assert.Contains(lines, line => Regex.IsMatch(line, row));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Table_ends_the_tensors_with_a_totals_line(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        long elements = expected.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
        long bytes = expected.Tensors.Sum(Bytes);

        var result = CliRun.Run("inspect", Fixtures.PathOf(name));

        CliRun.Succeeded(result);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{expected.Tensors.Count} tensors, {elements:N0} elements, {bytes:N0} bytes"), result.Stdout);
    }

    [Fact]
    public void Table_shows_shapes_in_brackets_with_comma_space()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("mlp.pth"));

        CliRun.Succeeded(result);
        Assert.Contains("[32, 16]", result.Stdout);
        Assert.Contains("[4, 32]", result.Stdout);
        Assert.Contains("4 tensors, 676 elements, 2,704 bytes", result.Stdout);
    }

    [Fact]
    public void Table_shows_a_0_d_tensor_as_empty_brackets()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("views.pth"));

        CliRun.Succeeded(result);
        Assert.Contains(Lines(result.Stdout), line => Regex.IsMatch(line, @"^scalar\s+float32\s+\[\]\s+4$"));
    }

    [Fact]
    public void Table_without_hash_has_no_sha256_column()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("mlp.pth"));

        CliRun.Succeeded(result);
        Assert.DoesNotContain("sha256", result.Stdout);
        Assert.All(Fixtures.ExpectedFor("mlp.pth").Tensors, t => Assert.DoesNotContain(t.Sha256, result.Stdout));
    }

    [Theory]
    [InlineData("mlp.pth")]
    [InlineData("legacy_views.pth")]
    [InlineData("dtypes.pth")]
    public void Table_with_hash_adds_a_sha256_column(string name)
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf(name), "--hash");

        CliRun.Succeeded(result);
        var lines = Lines(result.Stdout);
        Assert.Contains(lines, line => Regex.IsMatch(line, @"^key\s+dtype\s+shape\s+bytes\s+sha256$"));
        foreach (var tensor in Fixtures.ExpectedFor(name).Tensors)
        {
            Assert.Contains(lines, line => line.StartsWith(tensor.Key + " ", StringComparison.Ordinal) && line.EndsWith("  " + tensor.Sha256, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Table_lists_plain_values_after_the_tensors()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("checkpoint.pth"));

        CliRun.Succeeded(result);
        Assert.Contains("epoch = 7", result.Stdout);
        Assert.Contains("best_acc = 0.91", result.Stdout);
        Assert.Contains("config.name = 'mlp'", result.Stdout);
        Assert.Contains("optimizer.param_groups.0.foreach = None", result.Stdout);
        Assert.True(result.Stdout.IndexOf("tensors,", StringComparison.Ordinal) < result.Stdout.IndexOf("epoch = 7", StringComparison.Ordinal));
    }

    [Fact]
    public void Table_names_the_format()
    {
        Assert.Contains("(legacy format)", CliRun.Run("inspect", Fixtures.PathOf("legacy_mlp.pth")).Stdout);
        Assert.Contains("(zip format)", CliRun.Run("inspect", Fixtures.PathOf("mlp.pth")).Stdout);
    }

    private static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    private static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";

    private static long Bytes(ExpectedTensor tensor)
    {
        Assert.True(DTypeInfo.TryParse(tensor.DType, out var dtype), tensor.DType);
        return tensor.Shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize();
    }
}
