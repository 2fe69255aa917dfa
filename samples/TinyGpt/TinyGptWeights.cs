using StateDict;

namespace TinyGpt;

/// <summary>
/// The weights the forward pass reads, in its own names and shape, as float32 (the folder stores bf16). The generator
/// checks every key below against the folder's schema at build time (the <c>StateDictCheckpoint</c> item in the
/// project extracts it from <c>model/</c>), and <c>Load(folder)</c> opens the sharded safetensors and converts on load.
/// </summary>
[StateDictSchema("model/", ConvertTo = typeof(float))]
public partial class TinyGptWeights
{
    /// <summary>[V, C].</summary>
    [TensorKey("transformer.wte.weight")] public partial TensorView<float> TokenEmbedding { get; }

    /// <summary>[block_size, C].</summary>
    [TensorKey("transformer.wpe.weight")] public partial TensorView<float> PositionEmbedding { get; }

    /// <summary><c>transformer.h.0.</c>, <c>transformer.h.1.</c>, …</summary>
    [ModuleList("transformer.h")] public partial IReadOnlyList<TinyGptBlock> Layers { get; }

    /// <summary>The final LayerNorm.</summary>
    [Module("transformer.ln_f")] public partial LayerNormWeights FinalNorm { get; }

    /// <summary>[V, C]: the folder has no <c>lm_head.weight</c> (it is tied), so this is the token embedding.</summary>
    [TensorKey("lm_head.weight", Fallback = "transformer.wte.weight")] public partial TensorView<float> LmHead { get; }
}

/// <summary>One transformer block; its keys are relative to <c>transformer.h.N.</c>.</summary>
[StateDictModule]
public partial class TinyGptBlock
{
    /// <summary>The LayerNorm before attention.</summary>
    [Module("ln_1")] public partial LayerNormWeights Ln1 { get; }

    /// <summary>Rows [0, C) of the fused [3C, C] projection: the queries.</summary>
    [TensorKey("attn.in_proj_weight", Chunk = 0, Chunks = 3)] public partial TensorView<float> Wq { get; }

    /// <summary>Rows [C, 2C): the keys.</summary>
    [TensorKey("attn.in_proj_weight", Chunk = 1, Chunks = 3)] public partial TensorView<float> Wk { get; }

    /// <summary>Rows [2C, 3C): the values.</summary>
    [TensorKey("attn.in_proj_weight", Chunk = 2, Chunks = 3)] public partial TensorView<float> Wv { get; }

    /// <summary>Chunk 0 of the fused [3C] bias.</summary>
    [TensorKey("attn.in_proj_bias", Chunk = 0, Chunks = 3)] public partial TensorView<float> Bq { get; }

    /// <summary>Chunk 1 of the fused bias.</summary>
    [TensorKey("attn.in_proj_bias", Chunk = 1, Chunks = 3)] public partial TensorView<float> Bk { get; }

    /// <summary>Chunk 2 of the fused bias.</summary>
    [TensorKey("attn.in_proj_bias", Chunk = 2, Chunks = 3)] public partial TensorView<float> Bv { get; }

    /// <summary>[C, C].</summary>
    [TensorKey("attn.out_proj.weight")] public partial TensorView<float> Wo { get; }

    /// <summary>[C].</summary>
    [TensorKey("attn.out_proj.bias")] public partial TensorView<float> Bo { get; }

    /// <summary>The LayerNorm before the MLP.</summary>
    [Module("ln_2")] public partial LayerNormWeights Ln2 { get; }

    /// <summary>[4C, C].</summary>
    [TensorKey("mlp.c_fc.weight")] public partial TensorView<float> WFc { get; }

    /// <summary>[4C].</summary>
    [TensorKey("mlp.c_fc.bias")] public partial TensorView<float> BFc { get; }

    /// <summary>[C, 4C].</summary>
    [TensorKey("mlp.c_proj.weight")] public partial TensorView<float> WProj { get; }

    /// <summary>[C].</summary>
    [TensorKey("mlp.c_proj.bias")] public partial TensorView<float> BProj { get; }
}

/// <summary>A LayerNorm's affine parameters, both [C].</summary>
[StateDictModule]
public partial class LayerNormWeights
{
    /// <summary>The scale.</summary>
    [TensorKey("weight")] public partial TensorView<float> Weight { get; }

    /// <summary>The shift.</summary>
    [TensorKey("bias")] public partial TensorView<float> Bias { get; }
}
