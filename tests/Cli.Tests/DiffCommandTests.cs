using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary><c>statedict diff A B [--json]</c>: exit 0 identical, 4 different, 1 unreadable, 3 unsafe.</summary>
public class DiffCommandTests
{
    [Fact]
    public void A_checkpoint_and_its_conversion_are_identical()
    {
        using var dir = new TempDirectory();
        CliRun.Succeeded(CliRun.Run("convert", Fixtures.PathOf("legacy_mlp.pth"), dir.File("mlp.safetensors")));

        var result = CliRun.Run("diff", Fixtures.PathOf("mlp.pth"), Fixtures.PathOf("legacy_mlp.pth"));
        CliRun.Succeeded(result);
        Assert.Contains("identical: 4 tensors", result.Stdout);

        var json = CliRun.Run("diff", Fixtures.PathOf("legacy_mlp.pth"), dir.File("mlp.safetensors"), "--json");
        CliRun.Succeeded(json);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.True(doc.RootElement.GetProperty("identical").GetBoolean());
        Assert.All(doc.RootElement.GetProperty("tensors").EnumerateArray(), t =>
        {
            Assert.True(t.GetProperty("equal").GetBoolean());
            Assert.Equal(0, t.GetProperty("max_abs_diff").GetDouble());
        });
    }

    [Fact]
    public void Reports_keys_only_in_one_side_dtype_and_shape_changes_differing_bytes_and_values()
    {
        using var dir = new TempDirectory();
        using (var mlp = Checkpoint.Open(Fixtures.PathOf("mlp.pth")))
        {
            var bias = mlp.Read<float>("fc1.bias").ToArray();
            bias[3] += 0.5f;
            var writer = StateDictWriter.From(mlp);
            writer.Remove("fc1.bias");
            writer.Add<float>("fc1.bias", [32], bias);                                        // one element off by 0.5
            writer.Remove("fc2.bias");                                                        // only in A
            writer.Add<float>("extra", [2], [1f, 2f]);                                        // only in B
            writer.Remove("fc2.weight");
            writer.Add<double>("fc2.weight", [4, 32], mlp.Read<float>("fc2.weight").ToArray().Select(x => (double)x).ToArray()); // float64 now
            writer.AddValue("epoch", 3);
            writer.Save(dir.File("b.pth"));
        }

        var text = CliRun.Run("diff", Fixtures.PathOf("mlp.pth"), dir.File("b.pth"));
        Assert.Equal(4, text.ExitCode);
        Assert.Equal("", text.Stderr);
        Assert.Contains("only in A (1):\n  fc2.bias  float32 [4]", text.Stdout.ReplaceLineEndings("\n"));
        Assert.Contains("extra  float32 [2]", text.Stdout);
        Assert.Contains("epoch = 3", text.Stdout);
        Assert.Contains("fc2.weight  float32 [4, 32] -> float64 [4, 32]  max |a-b| 0", text.Stdout);
        Assert.Contains("fc1.bias  max |a-b| 0.5", text.Stdout);

        var json = CliRun.Run("diff", Fixtures.PathOf("mlp.pth"), dir.File("b.pth"), "--json");
        Assert.Equal(4, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("identical").GetBoolean());
        Assert.Equal(["fc2.bias"], root.GetProperty("only_in_a").EnumerateArray().Select(e => e.GetProperty("key").GetString()));
        Assert.Equal(["extra"], root.GetProperty("only_in_b").EnumerateArray().Select(e => e.GetProperty("key").GetString()));
        var changed = Assert.Single(root.GetProperty("changed").EnumerateArray());
        Assert.Equal("fc2.weight", changed.GetProperty("key").GetString());
        Assert.Equal("float64", changed.GetProperty("b").GetProperty("dtype").GetString());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!);
        Assert.False(tensors["fc1.bias"].GetProperty("equal").GetBoolean());
        Assert.Equal(0.5, tensors["fc1.bias"].GetProperty("max_abs_diff").GetDouble());
        Assert.True(tensors["fc1.weight"].GetProperty("equal").GetBoolean());
        Assert.Equal(3, root.GetProperty("values").GetProperty("only_in_b").GetProperty("epoch").GetInt32());
    }

    [Fact]
    public void Changed_values_and_non_float_tensors_are_reported()
    {
        using var dir = new TempDirectory();
        using (var source = Checkpoint.Open(Fixtures.PathOf("checkpoint.pth")))
        {
            var writer = StateDictWriter.From(source);
            writer.Remove("epoch");
            writer.AddValue("epoch", 8);
            writer.Save(dir.File("b.pth"));
        }
        using (var source = Checkpoint.Open(Fixtures.PathOf("dtypes.pth")))
        {
            var writer = StateDictWriter.From(source);
            writer.Remove("int64");
            writer.Add<long>("int64", [2, 3], [1, 2, 3, 4, 5, 6]);
            writer.Save(dir.File("d.pth"));
        }

        var values = CliRun.Run("diff", Fixtures.PathOf("checkpoint.pth"), dir.File("b.pth"), "--json");
        Assert.Equal(4, values.ExitCode);
        using (var doc = JsonDocument.Parse(values.Stdout))
        {
            var change = Assert.Single(doc.RootElement.GetProperty("values").GetProperty("changed").EnumerateArray());
            Assert.Equal("epoch", change.GetProperty("key").GetString());
            Assert.Equal(7, change.GetProperty("a").GetInt32());
            Assert.Equal(8, change.GetProperty("b").GetInt32());
        }

        var ints = CliRun.Run("diff", Fixtures.PathOf("dtypes.pth"), dir.File("d.pth"), "--json");
        Assert.Equal(4, ints.ExitCode);
        using (var doc = JsonDocument.Parse(ints.Stdout))
        {
            var tensor = doc.RootElement.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("key").GetString() == "int64");
            Assert.False(tensor.GetProperty("equal").GetBoolean());
            Assert.Equal(JsonValueKind.Null, tensor.GetProperty("max_abs_diff").ValueKind);
        }
    }

    [Fact]
    public void Unsafe_unreadable_and_usage_errors_have_their_exit_codes()
    {
        using var dir = new TempDirectory();
        Assert.Contains("posix.system", CliRun.FailedWith(3, CliRun.Run("diff", Fixtures.PathOf("mlp.pth"), Fixtures.PathOf("malicious_os_system.pth"))));
        CliRun.FailedWith(1, CliRun.Run("diff", dir.File("missing.pth"), Fixtures.PathOf("mlp.pth")));
        CliRun.FailedWith(2, CliRun.Run("diff", Fixtures.PathOf("mlp.pth")));
        CliRun.FailedWith(2, CliRun.Run("diff", "", Fixtures.PathOf("mlp.pth")));
    }
}
