namespace TinyGpt;

/// <summary>
/// The weights the forward pass reads, in its own names and shape, as float32 (the folder stores bf16).
/// <see cref="Load"/> fills them from the folder's sharded safetensors; the comments give each one's key.
/// </summary>
public sealed class TinyGptWeights
{
    /// <summary><c>transformer.wte.weight</c> [V, C].</summary>
    public required ReadOnlyMemory<float> TokenEmbedding { get; init; }

    /// <summary><c>transformer.wpe.weight</c> [block_size, C].</summary>
    public required ReadOnlyMemory<float> PositionEmbedding { get; init; }

    /// <summary><c>transformer.h.0.</c>, <c>transformer.h.1.</c>, ...</summary>
    public required IReadOnlyList<TinyGptBlock> Layers { get; init; }

    /// <summary><c>transformer.ln_f</c>.</summary>
    public required TinyGptNorm FinalNorm { get; init; }

    /// <summary><c>lm_head.weight</c> [V, C]; the folder has none (tied), so it is <c>transformer.wte.weight</c>.</summary>
    public required ReadOnlyMemory<float> LmHead { get; init; }

    /// <summary>Opens the folder's <c>model.safetensors.index.json</c> and reads every weight as float32.</summary>
    public static TinyGptWeights Load(string folder, TinyGptConfig config)
    {
        int c = config.NEmbd;
        using var w = new Bf16WeightReader(Path.Combine(folder, "model.safetensors.index.json"));
        var layers = new TinyGptBlock[config.NLayer];
        for (int i = 0; i < layers.Length; i++)
        {
            string p = $"transformer.h.{i}.";
            float[] qkv = w.Read(p + "attn.in_proj_weight", 3 * c, c);
            float[] qkvBias = w.Read(p + "attn.in_proj_bias", 3 * c);
            layers[i] = new TinyGptBlock
            {
                Ln1 = Norm(w, p + "ln_1", c),
                Wq = Chunk(qkv, 0, 3), Wk = Chunk(qkv, 1, 3), Wv = Chunk(qkv, 2, 3),
                Bq = Chunk(qkvBias, 0, 3), Bk = Chunk(qkvBias, 1, 3), Bv = Chunk(qkvBias, 2, 3),
                Wo = w.Read(p + "attn.out_proj.weight", c, c),
                Bo = w.Read(p + "attn.out_proj.bias", c),
                Ln2 = Norm(w, p + "ln_2", c),
                WFc = w.Read(p + "mlp.c_fc.weight", 4 * c, c),
                BFc = w.Read(p + "mlp.c_fc.bias", 4 * c),
                WProj = w.Read(p + "mlp.c_proj.weight", c, 4 * c),
                BProj = w.Read(p + "mlp.c_proj.bias", c),
            };
        }
        return new TinyGptWeights
        {
            TokenEmbedding = w.Read("transformer.wte.weight", config.VocabSize, c),
            PositionEmbedding = w.Read("transformer.wpe.weight", config.BlockSize, c),
            Layers = layers,
            FinalNorm = Norm(w, "transformer.ln_f", c),
            LmHead = w.Read(w.Has("lm_head.weight") ? "lm_head.weight" : "transformer.wte.weight", config.VocabSize, c),
        };
    }

    private static TinyGptNorm Norm(Bf16WeightReader w, string prefix, int c) =>
        new() { Weight = w.Read(prefix + ".weight", c), Bias = w.Read(prefix + ".bias", c) };

    /// <summary><c>torch.chunk(t, chunks, dim=0)[index]</c> for a dim 0 that <paramref name="chunks"/> divides: a view.</summary>
    private static ReadOnlyMemory<float> Chunk(float[] t, int index, int chunks) =>
        t.AsMemory(index * (t.Length / chunks), t.Length / chunks);
}

/// <summary>One transformer block: <c>transformer.h.N.</c>.</summary>
public sealed class TinyGptBlock
{
    /// <summary><c>ln_1</c>.</summary>
    public required TinyGptNorm Ln1 { get; init; }

    /// <summary>Rows [0, C) of <c>attn.in_proj_weight</c> [3C, C]: the query projection.</summary>
    public required ReadOnlyMemory<float> Wq { get; init; }

    /// <summary>Rows [C, 2C) of <c>attn.in_proj_weight</c>: the key projection.</summary>
    public required ReadOnlyMemory<float> Wk { get; init; }

    /// <summary>Rows [2C, 3C) of <c>attn.in_proj_weight</c>: the value projection.</summary>
    public required ReadOnlyMemory<float> Wv { get; init; }

    /// <summary>Chunk 0 of <c>attn.in_proj_bias</c> [3C].</summary>
    public required ReadOnlyMemory<float> Bq { get; init; }

    /// <summary>Chunk 1 of <c>attn.in_proj_bias</c>.</summary>
    public required ReadOnlyMemory<float> Bk { get; init; }

    /// <summary>Chunk 2 of <c>attn.in_proj_bias</c>.</summary>
    public required ReadOnlyMemory<float> Bv { get; init; }

    /// <summary><c>attn.out_proj.weight</c> [C, C].</summary>
    public required ReadOnlyMemory<float> Wo { get; init; }

    /// <summary><c>attn.out_proj.bias</c> [C].</summary>
    public required ReadOnlyMemory<float> Bo { get; init; }

    /// <summary><c>ln_2</c>.</summary>
    public required TinyGptNorm Ln2 { get; init; }

    /// <summary><c>mlp.c_fc.weight</c> [4C, C].</summary>
    public required ReadOnlyMemory<float> WFc { get; init; }

    /// <summary><c>mlp.c_fc.bias</c> [4C].</summary>
    public required ReadOnlyMemory<float> BFc { get; init; }

    /// <summary><c>mlp.c_proj.weight</c> [C, 4C].</summary>
    public required ReadOnlyMemory<float> WProj { get; init; }

    /// <summary><c>mlp.c_proj.bias</c> [C].</summary>
    public required ReadOnlyMemory<float> BProj { get; init; }
}

/// <summary>A LayerNorm's affine parameters: <c>PREFIX.weight</c> and <c>PREFIX.bias</c>, both [C].</summary>
public sealed class TinyGptNorm
{
    /// <summary><c>weight</c> [C].</summary>
    public required ReadOnlyMemory<float> Weight { get; init; }

    /// <summary><c>bias</c> [C].</summary>
    public required ReadOnlyMemory<float> Bias { get; init; }
}
