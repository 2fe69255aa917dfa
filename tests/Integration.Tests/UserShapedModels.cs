namespace StateDict.Integration.Tests;

/// <summary>The bf16 nn.TransformerEncoder, in our own shape, read as float: Q, K and V are thirds of in_proj_weight.</summary>
[StateDictSchema("Schemas/encoder_bf16.schema.json")]
public partial class EncoderBf16
{
    [TensorKey("embed.weight")] public partial TensorView<float> Embed { get; }

    [ModuleList("encoder.layers")] public partial IReadOnlyList<EncoderLayer> Layers { get; }

    [Module("norm")] public partial Norm FinalNorm { get; }
}

/// <summary>The same model saved in float16, bound through the same module classes.</summary>
[StateDictSchema("Schemas/encoder_f16.schema.json")]
public partial class EncoderF16
{
    [TensorKey("embed.weight")] public partial TensorView<float> Embed { get; }

    [ModuleList("encoder.layers")] public partial IReadOnlyList<EncoderLayer> Layers { get; }

    [Module("norm")] public partial Norm FinalNorm { get; }
}

/// <summary>The float16 model as a generated tree, every tensor converted to float by ConvertTo.</summary>
[StateDictSchema("Schemas/encoder_f16.schema.json", ConvertTo = typeof(float))]
public partial class EncoderF16Tree;

/// <summary>One nn.TransformerEncoderLayer; keys are relative to encoder.layers.N.</summary>
[StateDictModule]
public partial class EncoderLayer
{
    [TensorKey("self_attn.in_proj_weight", Chunk = 0, Chunks = 3)] public partial TensorView<float> Wq { get; }

    [TensorKey("self_attn.in_proj_weight", Chunk = 1, Chunks = 3)] public partial TensorView<float> Wk { get; }

    [TensorKey("self_attn.in_proj_weight", Chunk = 2, Chunks = 3)] public partial TensorView<float> Wv { get; }

    [TensorKey("self_attn.in_proj_bias")] public partial TensorView<float> InProjBias { get; }

    [Module("self_attn.out_proj")] public partial Linear OutProj { get; }

    [Module("linear1")] public partial Linear Linear1 { get; }

    [Module("linear2")] public partial Linear Linear2 { get; }

    [Module("norm1")] public partial Norm Norm1 { get; }

    [Module("norm2")] public partial Norm Norm2 { get; }
}

/// <summary>nn.Linear.</summary>
[StateDictModule]
public partial class Linear
{
    [TensorKey("weight")] public partial TensorView<float> Weight { get; }

    [TensorKey("bias")] public partial TensorView<float> Bias { get; }
}

/// <summary>nn.LayerNorm.</summary>
[StateDictModule]
public partial class Norm
{
    [TensorKey("weight")] public partial TensorView<float> Weight { get; }

    [TensorKey("bias")] public partial TensorView<float> Bias { get; }
}

/// <summary>Tied embedding and lm_head, saved without lm_head.weight; inv_freq buffers ignored.</summary>
[StateDictSchema("Schemas/tied.schema.json", Ignore = new[] { "*.inv_freq" })]
public partial class TiedLm
{
    [TensorKey("embed_tokens.weight")] public partial TensorView<float> Embed { get; }

    [ModuleList("blocks")] public partial IReadOnlyList<TiedBlock> Blocks { get; }

    [TensorKey("lm_head.weight", Fallback = "embed_tokens.weight")] public partial TensorView<float> LmHead { get; }
}

/// <summary>A block of <see cref="TiedLm"/>.</summary>
[StateDictModule]
public partial class TiedBlock
{
    [Module("proj")] public partial Linear Proj { get; }
}

/// <summary>Like <see cref="TiedLm"/> but without Ignore: a strict load must refuse the inv_freq buffers.</summary>
[StateDictSchema("Schemas/tied.schema.json")]
public partial class TiedLmStrict
{
    [TensorKey("embed_tokens.weight")] public partial TensorView<float> Embed { get; }

    [ModuleList("blocks")] public partial IReadOnlyList<TiedBlock> Blocks { get; }
}
