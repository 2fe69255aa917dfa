using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using StateDict.Tests.Support;

namespace StateDict.Integration.Tests;

/// <summary>
/// Classes of our own shape bind real PyTorch checkpoints (make_binding_fixtures.py): every bound tensor equals,
/// as float32 bytes, PyTorch's <c>t.float()</c> of the key (or of its <c>torch.chunk</c> piece, or of the fallback).
/// </summary>
public class UserShapedBindingTests
{

    private static Dictionary<string, string> Expected(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("binding/" + file + ".expected.json")));
        return json.RootElement.GetProperty("float32_sha256").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private static string Sha(TensorView<float> view) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(view.Span)));

    private static void AssertEncoder(string file, TensorView<float> embed, IReadOnlyList<EncoderLayer> layers, Norm norm)
    {
        var expected = Expected(file);
        Assert.Equal(expected["embed.weight"], Sha(embed));
        Assert.Equal(2, layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            string p = $"encoder.layers.{i}.";
            var layer = layers[i];
            Assert.Equal(expected[p + "self_attn.in_proj_weight#chunk0of3"], Sha(layer.Wq));
            Assert.Equal(expected[p + "self_attn.in_proj_weight#chunk1of3"], Sha(layer.Wk));
            Assert.Equal(expected[p + "self_attn.in_proj_weight#chunk2of3"], Sha(layer.Wv));
            Assert.Equal(new long[] { 8, 8 }, layer.Wk.Shape);
            Assert.Equal(expected[p + "self_attn.in_proj_bias"], Sha(layer.InProjBias));
            Assert.Equal(expected[p + "self_attn.out_proj.weight"], Sha(layer.OutProj.Weight));
            Assert.Equal(expected[p + "linear1.weight"], Sha(layer.Linear1.Weight));
            Assert.Equal(expected[p + "linear2.bias"], Sha(layer.Linear2.Bias));
            Assert.Equal(expected[p + "norm2.weight"], Sha(layer.Norm2.Weight));
        }
        Assert.Equal(expected["norm.bias"], Sha(norm.Bias));
    }

    [Fact]
    public void A_bfloat16_transformer_binds_as_float_with_QKV_chunks()
    {
        using var w = EncoderBf16.Load(Fixtures.PathOf("binding/encoder_bf16.pth"));
        AssertEncoder("encoder_bf16.pth", w.Embed, w.Layers, w.FinalNorm);
    }

    [Fact]
    public void A_float16_transformer_binds_as_float_with_QKV_chunks()
    {
        using var w = EncoderF16.Load(Fixtures.PathOf("binding/encoder_f16.pth"));
        AssertEncoder("encoder_f16.pth", w.Embed, w.Layers, w.FinalNorm);
    }

    [Fact]
    public void ConvertTo_reads_a_float16_tree_as_float()
    {
        using var w = EncoderF16Tree.Load(Fixtures.PathOf("binding/encoder_f16.pth"));
        var expected = Expected("encoder_f16.pth");
        TensorView<float> weight = w.Encoder.Layers[1].SelfAttn.InProjWeight;
        Assert.Equal(expected["encoder.layers.1.self_attn.in_proj_weight"], Sha(weight));
        Assert.Equal(expected["norm.weight"], Sha(w.Norm.Weight));
    }

    [Fact]
    public void A_tied_lm_head_absent_from_the_checkpoint_falls_back_to_the_embeddings()
    {
        using var w = TiedLm.Load(Fixtures.PathOf("binding/tied.pth"));
        var expected = Expected("tied.pth");
        Assert.Equal(expected["embed_tokens.weight"], Sha(w.LmHead));
        Assert.Equal(expected["embed_tokens.weight"], Sha(w.Embed));
        Assert.Equal(2, w.Blocks.Count);
        Assert.Equal(expected["blocks.1.proj.weight"], Sha(w.Blocks[1].Proj.Weight));
        Assert.Equal(expected["blocks.0.proj.bias"], Sha(w.Blocks[0].Proj.Bias));
        // The inv_freq buffers were let through by Ignore, and are reported as ignored.
        Assert.Equal(new[] { "blocks.0.inv_freq", "blocks.1.inv_freq" }, w.Report.IgnoredKeys);
    }

    [Fact]
    public void Without_Ignore_a_strict_load_refuses_the_unbound_buffers_and_Strict_false_lets_them_through()
    {
        var e = Assert.Throws<CheckpointSchemaMismatchException>(() => TiedLmStrict.Load(Fixtures.PathOf("binding/tied.pth")));
        Assert.Equal(2, e.Problems.Count);
        Assert.All(e.Problems, p => Assert.Contains("unexpected key 'blocks.", p, StringComparison.Ordinal));

        using var w = TiedLmStrict.Load(Fixtures.PathOf("binding/tied.pth"), new LoadOptions { Strict = false });
        Assert.Equal(2, w.Report.IgnoredKeys.Count);
    }

    [Fact]
    public void A_checkpoint_that_has_the_tied_key_uses_it_and_checks_its_shape()
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-tied-{Guid.NewGuid():N}.pth");
        try
        {
            using (var source = Checkpoint.Open(Fixtures.PathOf("binding/tied.pth")))
            {
                StateDictWriter.From(source).Add<float>("lm_head.weight", [16, 8], new float[16 * 8], isParameter: true).Save(path);
            }
            using var w = TiedLm.Load(path);
            Assert.All(w.LmHead.ToArray(), v => Assert.Equal(0f, v));
            Assert.Equal("lm_head.weight", w.LmHead.Key);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
