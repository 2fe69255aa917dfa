using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>
/// Generated code for classes of the user's own shape ([Module], [ModuleList], [StateDictModule], Chunk, Fallback,
/// ConvertTo, Ignore), compared with baselines and compiled with every warning wave: no warning, no error.
/// </summary>
public class UserShapeBaselineTests
{
    /// <summary>A two-layer Llama-shaped bf16 schema with a fused QKV projection and rotary buffers.</summary>
    public static string LlamaSchema(bool withLmHead = false, int layers = 2)
    {
        var tensors = new List<(string, string, long[])> { ("model.embed_tokens.weight", "bfloat16", [32, 8]) };
        for (int i = 0; i < layers; i++)
        {
            tensors.Add(($"model.layers.{i}.self_attn.q_proj.weight", "bfloat16", [8, 8]));
            tensors.Add(($"model.layers.{i}.attn.in_proj_weight", "bfloat16", [24, 8]));
            tensors.Add(($"model.layers.{i}.self_attn.rotary_emb.inv_freq", "float32", [4]));
            tensors.Add(($"model.layers.{i}.mlp.norm.weight", "float32", [8]));
        }
        tensors.Add(("model.norm.weight", "bfloat16", [8]));
        if (withLmHead)
        {
            tensors.Add(("lm_head.weight", "bfloat16", [32, 8]));
        }
        return TestSchemas.Of(tensors.ToArray());
    }

    public const string Llama = """
        using System.Collections.Generic;
        using StateDict;

        namespace App;

        /// <summary>A small Llama.</summary>
        [StateDictSchema("llama.schema.json", ConvertTo = typeof(float), Ignore = new[] { "*.rotary_emb.inv_freq" })]
        public partial class Llama
        {
            /// <summary>Token embeddings.</summary>
            [TensorKey("model.embed_tokens.weight")] public partial TensorView<float> Embed { get; }

            /// <summary>The decoder layers.</summary>
            [ModuleList("model.layers")] public partial IReadOnlyList<Block> Layers { get; }

            /// <summary>The final norm.</summary>
            [Module("model.norm")] public partial Norm FinalNorm { get; }

            /// <summary>The output projection, tied to the embeddings.</summary>
            [TensorKey("lm_head.weight", Fallback = "model.embed_tokens.weight")] public partial TensorView<float> LmHead { get; }
        }

        /// <summary>One decoder layer.</summary>
        [StateDictModule]
        public partial class Block
        {
            /// <summary>Query projection.</summary>
            [TensorKey("self_attn.q_proj.weight")] public partial TensorView<float> Wq { get; }

            /// <summary>Key projection, the middle third of the fused one.</summary>
            [TensorKey("attn.in_proj_weight", Chunk = 1, Chunks = 3)] internal partial TensorView<BFloat16> K { get; }

            /// <summary>A nested module.</summary>
            [Module("mlp")] public partial Mlp Mlp { get; }
        }

        /// <summary>The MLP of a layer.</summary>
        [StateDictModule]
        public partial class Mlp
        {
            /// <summary>Its norm.</summary>
            [Module("norm")] public partial Norm Norm { get; }
        }

        /// <summary>An RMS norm.</summary>
        [StateDictModule]
        public partial class Norm
        {
            /// <summary>Scale.</summary>
            [TensorKey("weight")] public partial TensorView<float> Weight { get; }
        }
        """;

    [Fact]
    public void Llama_with_lists_modules_chunks_a_fallback_ConvertTo_and_Ignore()
    {
        var outcome = GeneratorRunner.Run(Llama, GeneratorRunner.Schema("llama.schema.json", LlamaSchema()));

        var sources = outcome.CleanSources();
        Assert.Equal(new[] { "App.Block.Module.g.cs", "App.Llama.g.cs", "App.Mlp.Module.g.cs", "App.Norm.Module.g.cs" }, sources.Keys.Order(StringComparer.Ordinal));
        Baselines.Verify(sources);
    }

    [Fact]
    public void ConvertTo_types_every_floating_tensor_of_a_generated_tree()
    {
        var outcome = GeneratorRunner.Run("""
            using StateDict;

            namespace App;

            /// <summary>Mixed dtypes, read as float.</summary>
            [StateDictSchema("m.schema.json", ConvertTo = typeof(float))]
            public partial class Mixed;
            """,
            GeneratorRunner.Schema("m.schema.json", TestSchemas.Of(
                ("fc.weight", "bfloat16", [4, 2]), ("fc.bias", "float16", [4]), ("fc.scale", "float32", [4]),
                ("steps", "int64", []), ("experts.0", "float8_e4m3fn", [2]), ("experts.1", "float8_e4m3fn", [2]))));

        Baselines.Verify(outcome.CleanSources());
    }
}
