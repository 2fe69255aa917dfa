using StateDict.Tests.Support;

namespace StateDict.Integration.Tests;

/// <summary>Strict binding gathers every difference between a checkpoint and the schema into one exception.</summary>
public class MismatchTests
{
    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        // The MLP schema against a different network: keys, shapes and extras all differ.
        var e = Assert.Throws<CheckpointSchemaMismatchException>(() => Mlp.Load(Fixtures.PathOf("sequential.pth")));
        Assert.Contains(e.Problems, p => p.StartsWith("missing key 'fc1.weight'", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("unexpected key '0.weight'", StringComparison.Ordinal));
        Assert.Equal(8, e.Problems.Count);
        Assert.Contains("does not match Mlp's schema (8 problems", e.Message);
    }

    [Fact]
    public void Shape_mismatch_names_both_shapes()
    {
        var e = Assert.Throws<CheckpointSchemaMismatchException>(() => SequentialNet.Load(Fixtures.PathOf("mlp.pth"), new LoadOptions { Strict = false }));
        Assert.DoesNotContain(e.Problems, p => p.StartsWith("unexpected", StringComparison.Ordinal));
        Assert.All(e.Problems, p => Assert.StartsWith("missing key", p));
    }

    [Fact]
    public void Missing_key_suggests_the_near_miss()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"));
        var schema = new[] { new SchemaEntry("fc1.weigth", DType.Float32, 32, 16) };
        var e = Assert.Throws<CheckpointSchemaMismatchException>(() => SchemaBinder.Bind(checkpoint, schema, new LoadOptions { Strict = false }, "Test"));
        Assert.Equal("missing key 'fc1.weigth' (did you mean 'fc1.weight'?)", Assert.Single(e.Problems));
    }

    [Fact]
    public void Dtype_and_shape_mismatches_are_listed()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"));
        var schema = new[]
        {
            new SchemaEntry("fc1.weight", DType.Float64, 32, 16),
            new SchemaEntry("fc1.bias", DType.Float32, 31),
        };
        var e = Assert.Throws<CheckpointSchemaMismatchException>(() => SchemaBinder.Bind(checkpoint, schema, new LoadOptions { Strict = false }, "Test"));
        Assert.Equal(
            ["'fc1.weight' is float32 in the file but float64 in the schema", "'fc1.bias' has shape [32] in the file but [31] in the schema"],
            e.Problems);
    }

    [Fact]
    public void Non_strict_binding_reports_the_ignored_keys()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"));
        var schema = new[] { new SchemaEntry("fc1.bias", DType.Float32, 32) };
        var binding = SchemaBinder.Bind(checkpoint, schema, new LoadOptions { Strict = false }, "Test");
        Assert.Equal(["fc1.weight", "fc2.weight", "fc2.bias"], binding.Report.IgnoredKeys);
    }
}
