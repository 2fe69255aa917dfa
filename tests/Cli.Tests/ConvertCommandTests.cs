using System.Security.Cryptography;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary><c>statedict convert IN OUT [--to pth|safetensors]</c>: the format by OUT's extension or --to; tensors bit-exact.</summary>
public class ConvertCommandTests
{
    [Theory]
    [InlineData("mlp.pth", "out.safetensors", "safetensors")]
    [InlineData("views.pth", "out.safetensors", "safetensors")]
    [InlineData("legacy_views.pth", "out.pth", "zip")]
    [InlineData("safetensors/dtypes.safetensors", "out.pt", "zip")]
    [InlineData("mobilenet_v3_small.pth", "model.bin", "zip")]
    public void Converts_by_the_output_extension_keeping_every_tensor(string name, string output, string format)
    {
        using var dir = new TempDirectory();
        var result = CliRun.Run("convert", Fixtures.PathOf(name), dir.File(output));

        CliRun.Succeeded(result);
        Assert.StartsWith($"wrote {dir.File(output)} ", result.Stdout);
        AssertSameTensors(name, dir.File(output), format);
    }

    [Fact]
    public void To_overrides_the_extension()
    {
        using var dir = new TempDirectory();
        var result = CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), dir.File("weights.bin"), "--to", "safetensors");

        CliRun.Succeeded(result);
        AssertSameTensors("mlp.pth", dir.File("weights.bin"), "safetensors");
    }

    [Fact]
    public void Plain_values_survive_in_pth_and_are_noted_as_left_out_of_safetensors()
    {
        using var dir = new TempDirectory();
        var expected = Fixtures.ExpectedFor("checkpoint.pth");

        var pth = CliRun.Run("convert", Fixtures.PathOf("checkpoint.pth"), dir.File("ckpt.pth"), "--nested");
        CliRun.Succeeded(pth);
        using (var copy = Checkpoint.Open(dir.File("ckpt.pth")))
        {
            Assert.Equal(expected.Values.Select(v => v.Key), copy.Values.Keys);
            Assert.Equal(7L, copy.Values["epoch"]);
            Assert.Equal(0.91, copy.Values["best_acc"]);
        }

        var safetensors = CliRun.Run("convert", Fixtures.PathOf("checkpoint.pth"), dir.File("ckpt.safetensors"));
        Assert.Equal(0, safetensors.ExitCode);
        Assert.Contains("left out", safetensors.Stderr);
        Assert.Contains($"{expected.Values.Count} plain values were left out (optimizer.param_groups.0.lr, ", safetensors.Stderr);
        AssertSameTensors("checkpoint.pth", dir.File("ckpt.safetensors"), "safetensors");
    }

    [Fact]
    public void Prefix_converts_a_sub_tree()
    {
        using var dir = new TempDirectory();
        CliRun.Succeeded(CliRun.Run("convert", Fixtures.PathOf("checkpoint.pth"), dir.File("model.safetensors"), "--prefix", "model."));

        using var copy = Checkpoint.Open(dir.File("model.safetensors"));
        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], copy.Tensors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_dtype_safetensors_lacks_fails_with_exit_1_and_leaves_no_file()
    {
        using var dir = new TempDirectory();
        var result = CliRun.Run("convert", Fixtures.PathOf("dtypes.pth"), dir.File("out.safetensors"));

        string line = CliRun.FailedWith(1, result);
        Assert.Contains("complex128", line);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("out.txt")]
    [InlineData("out")]
    public void An_output_without_a_known_extension_is_a_usage_error(string output)
    {
        using var dir = new TempDirectory();
        string line = CliRun.FailedWith(2, CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), dir.File(output)));
        Assert.Contains("--to", line);
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        using var dir = new TempDirectory();
        CliRun.FailedWith(2, CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), dir.File("out.pth"), "--to", "onnx"));
        CliRun.FailedWith(2, CliRun.Run("convert", Fixtures.PathOf("mlp.pth")));
        CliRun.FailedWith(2, CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), Fixtures.PathOf("mlp.pth")));
        CliRun.FailedWith(2, CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), dir.File("out.safetensors"), "--nested"));
        CliRun.FailedWith(2, CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), ""));
    }

    [Fact]
    public void Unsafe_and_unreadable_inputs_exit_3_and_1()
    {
        using var dir = new TempDirectory();
        Assert.Contains("posix.system", CliRun.FailedWith(3, CliRun.Run("convert", Fixtures.PathOf("malicious_os_system.pth"), dir.File("out.pth"))));
        CliRun.FailedWith(1, CliRun.Run("convert", dir.File("missing.pth"), dir.File("out.pth")));
        File.WriteAllText(dir.File("text.pth"), "not a checkpoint");
        CliRun.FailedWith(1, CliRun.Run("convert", dir.File("text.pth"), dir.File("out.pth")));
        Assert.False(File.Exists(dir.File("out.pth")));
    }

    [Fact]
    public void Converting_back_and_forth_gives_identical_checkpoints_to_diff()
    {
        using var dir = new TempDirectory();
        CliRun.Succeeded(CliRun.Run("convert", Fixtures.PathOf("mlp.pth"), dir.File("a.safetensors")));
        CliRun.Succeeded(CliRun.Run("convert", dir.File("a.safetensors"), dir.File("b.pth")));

        var result = CliRun.Run("diff", Fixtures.PathOf("mlp.pth"), dir.File("b.pth"));
        CliRun.Succeeded(result);
        Assert.Contains("identical", result.Stdout);
    }

    private static void AssertSameTensors(string fixture, string written, string format)
    {
        var expected = Fixtures.ExpectedFor(fixture);
        using var copy = Checkpoint.Open(written);
        Assert.Equal(format, copy.Format.ToString().ToLowerInvariant());
        foreach (var want in expected.Tensors)
        {
            string key = copy.Tensors.ContainsKey(want.Key) ? want.Key : copy.Metadata[want.Key]; // tied: an alias in safetensors
            Assert.Equal(want.DType, copy.Tensors[key].DType.Name());
            Assert.Equal(want.Shape, copy.Tensors[key].Shape);
            Assert.Equal(want.Sha256, Convert.ToHexStringLower(SHA256.HashData(copy.ReadBytes(key).Span)));
        }
    }
}
