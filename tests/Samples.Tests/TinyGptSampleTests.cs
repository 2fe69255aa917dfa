using System.Text.Json;
using TinyGpt;

namespace StateDict.Samples.Tests;

public class TinyGptSampleTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "model");

    [Fact]
    public void Greedy_continuation_is_PyTorchs_token_for_token_with_logits_within_1e_4()
    {
        TinyGptResult result = TinyGptComparison.Run(Folder);

        Assert.Equal(100, result.PyTorchTokens.Length);
        Assert.Equal(result.PyTorchTokens, result.OurTokens);
        Assert.Equal(result.PyTorchs, result.Ours);
        Assert.InRange(result.MaxLogitDiff, 0f, 1e-4f);
        Assert.True(result.Matches);
    }

    [Fact]
    public void Folder_is_two_bf16_safetensors_shards_without_lm_head()
    {
        using var checkpoint = Checkpoint.Open(Path.Combine(Folder, "model.safetensors.index.json"));
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "model.safetensors.index.json")));
        var config = TinyGptConfig.Load(Path.Combine(Folder, "config.json"));

        Assert.Equal(CheckpointFormat.Sharded, checkpoint.Format);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
                     index.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()).Distinct().Order());
        Assert.All(checkpoint.Tensors.Values, t => Assert.Equal(DType.BFloat16, t.DType));
        Assert.Equal(checkpoint.Tensors.Values.Sum(t => t.ByteLength).ToString(), checkpoint.Metadata["total_size"]);
        Assert.DoesNotContain("lm_head.weight", checkpoint.Tensors.Keys);
        Assert.Equal(4 + 12 * config.NLayer, checkpoint.Tensors.Count);
    }

    [Fact]
    public void Weights_split_the_fused_qkv_by_rows_and_tie_the_lm_head_to_the_token_embedding()
    {
        var config = TinyGptConfig.Load(Path.Combine(Folder, "config.json"));
        using var weights = TinyGptWeights.Load(Folder);
        using var checkpoint = Checkpoint.Open(Path.Combine(Folder, "model.safetensors.index.json"));
        float[] qkv = checkpoint.Read<BFloat16>("transformer.h.1.attn.in_proj_weight").ToArray().Select(b => (float)b).ToArray();
        float[] qkvBias = checkpoint.Read<BFloat16>("transformer.h.1.attn.in_proj_bias").ToArray().Select(b => (float)b).ToArray();
        int c = config.NEmbd;

        TinyGptBlock block = weights.Layers[1];
        Assert.Equal(qkv.AsSpan(0, c * c), block.Wq.Span);
        Assert.Equal(qkv.AsSpan(c * c, c * c), block.Wk.Span);
        Assert.Equal(qkv.AsSpan(2 * c * c, c * c), block.Wv.Span);
        Assert.Equal(qkvBias.AsSpan(2 * c, c), block.Bv.Span);
        Assert.Equal(new long[] { c, c }, block.Wk.Shape.ToArray());
        Assert.Equal(config.NLayer, weights.Layers.Count);
        Assert.Equal(weights.TokenEmbedding.Span, weights.LmHead.Span);
        Assert.Equal(checkpoint.Read<BFloat16>("transformer.ln_f.bias").ToArray().Select(b => (float)b), weights.FinalNorm.Bias.ToArray());
    }

    [Fact]
    public void The_generated_config_class_reads_every_field_of_config_json()
    {
        var config = TinyGptConfig.Load(Path.Combine(Folder, "config.json"));

        Assert.Equal((60, 2, 4, 64, 32, 16), (config.VocabSize, config.NLayer, config.NHead, config.NEmbd, config.BlockSize, config.HeadSize));
        Assert.Equal(1e-05, config.LayerNormEpsilon);
        Assert.Equal(("tinygpt", "gelu", "bfloat16", true), (config.ModelType, config.ActivationFunction, config.TorchDtype, config.TieWordEmbeddings));
        Assert.Equal(config.VocabSize, config.Vocab.Length);
    }

    [Fact]
    public void A_config_that_does_not_fit_the_weights_names_the_tensor()
    {
        string folder = CopyOfTheModel();
        try
        {
            string config = File.ReadAllText(Path.Combine(folder, "config.json")).Replace("\"block_size\": 32", "\"block_size\": 48");
            File.WriteAllText(Path.Combine(folder, "config.json"), config);

            var e = Assert.Throws<InvalidDataException>(() => TinyGptComparison.Run(folder));
            Assert.Contains("\"transformer.wpe.weight\" is [32, 64], expected [48, 64]", e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_config_field_of_another_type_names_the_file_and_the_field()
    {
        string folder = CopyOfTheModel();
        try
        {
            string path = Path.Combine(folder, "config.json");
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"n_head\": 4", "\"n_head\": \"4\""));

            var e = Assert.Throws<ConfigException>(() => TinyGptComparison.Run(folder));
            Assert.Equal($"{path}: field 'n_head' must be an integer from -2147483648 to 2147483647, not the string \"4\"", e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string CopyOfTheModel()
    {
        string folder = Directory.CreateTempSubdirectory("tinygpt-").FullName;
        foreach (string file in Directory.GetFiles(Folder))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        return folder;
    }

    // The values are CPython's math.erf.
    [Theory]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.0, -0.9953222650189527)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(4.5, 0.9999999998033839)]
    [InlineData(-0.001, -0.0011283787909692365)]
    public void Erf_agrees_with_CPython(double x, double expected)
    {
        Assert.Equal(expected, Functional.Erf(x), 1e-15);
    }
}
