using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary><c>statedict inspect</c> on safetensors files and sharded indexes: metadata in the table, damaged files exit 1.</summary>
public class SafetensorsInspectTests
{
    [Fact]
    public void The_table_lists_a_safetensors_files_metadata_sorted_by_key()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("safetensors/dtypes.safetensors"));

        CliRun.Succeeded(result);
        Assert.Contains("(safetensors format)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("metadata (3):\n  format = pt\n  source = dtypes.pth\n  unicode = naïve café ✓\n", result.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_table_of_a_torch_file_has_no_metadata_section()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("mlp.pth"));

        CliRun.Succeeded(result);
        Assert.DoesNotContain("metadata", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sharded_index_inspects_as_one_checkpoint_with_the_shards_hashes()
    {
        var result = CliRun.Run("inspect", Fixtures.PathOf("sharded/pytorch_model.bin.index.json"), "--json", "--hash");

        CliRun.Succeeded(result);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("sharded", doc.RootElement.GetProperty("format").GetString());
        var mlp = Fixtures.ExpectedFor("mlp.pth").Tensors.ToDictionary(t => t.Key, t => t.Sha256);
        foreach (var tensor in doc.RootElement.GetProperty("tensors").EnumerateArray())
        {
            Assert.Equal(mlp[tensor.GetProperty("key").GetString()!], tensor.GetProperty("sha256").GetString());
        }
    }

    [Fact]
    public void A_damaged_safetensors_file_exits_1_naming_the_problem()
    {
        using var temp = new TempDirectory();
        string path = temp.File("cut.safetensors");
        var bytes = File.ReadAllBytes(Fixtures.PathOf("safetensors/mlp.safetensors"));
        File.WriteAllBytes(path, bytes[..^4]);

        string line = CliRun.FailedWith(1, CliRun.Run("inspect", path));

        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.Contains("tensor 'fc2.weight': data_offsets [2192, 2704]", line, StringComparison.Ordinal);
        Assert.Contains("(out of bounds)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_whose_shard_climbs_out_of_its_folder_exits_1()
    {
        using var temp = new TempDirectory();
        string index = temp.File("model.safetensors.index.json");
        File.WriteAllText(index, """{"weight_map": {"w": "../model.safetensors"}}""");

        string line = CliRun.FailedWith(1, CliRun.Run("inspect", index));

        Assert.Contains("refused: the shard path '../model.safetensors' climbs out with '..'", line, StringComparison.Ordinal);
    }
}
