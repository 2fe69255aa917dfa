using Microsoft.CodeAnalysis;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>
/// Generated code for representative inputs, compared with checked-in baselines (UPDATE_BASELINES=1 rewrites
/// them), and compiled with the runtime under nullable and every warning wave: it must add no warning or error.
/// </summary>
public class OutputBaselineTests
{
    /// <summary>Runs the generator: no diagnostic, and the output compiles with no warning or error.</summary>
    internal static IReadOnlyDictionary<string, string> Generate(string source, params AdditionalText[] schemas) =>
        GeneratorRunner.Run(source, schemas).CleanSources();

    [Fact]
    public void Mlp()
    {
        var sources = Generate("""
            using StateDict;

            namespace App;

            /// <summary>A two-layer perceptron.</summary>
            [StateDictSchema("Schemas/mlp.schema.json")]
            public partial class Mlp;
            """,
            GeneratorRunner.Schema("Schemas/mlp.schema.json", TestSchemas.Of(
                ("fc1.weight", "float32", [32, 16]), ("fc1.bias", "float32", [32]),
                ("fc2.weight", "float32", [4, 32]), ("fc2.bias", "float32", [4]))));

        Baselines.Verify(sources);
    }

    [Fact]
    public void ResNet_with_block_lists_and_a_nullable_downsample()
    {
        var tensors = new List<(string, string, long[])>
        {
            ("conv1.weight", "float32", [64, 3, 7, 7]),
            ("bn1.weight", "float32", [64]), ("bn1.bias", "float32", [64]),
            ("bn1.running_mean", "float32", [64]), ("bn1.running_var", "float32", [64]), ("bn1.num_batches_tracked", "int64", []),
        };
        void Block(string prefix, int channels, int inChannels, bool downsample)
        {
            tensors.Add(($"{prefix}.conv1.weight", "float32", [channels, inChannels, 3, 3]));
            tensors.Add(($"{prefix}.bn1.weight", "float32", [channels]));
            tensors.Add(($"{prefix}.bn1.num_batches_tracked", "int64", []));
            tensors.Add(($"{prefix}.conv2.weight", "float32", [channels, channels, 3, 3]));
            if (downsample)
            {
                tensors.Add(($"{prefix}.downsample.0.weight", "float32", [channels, inChannels, 1, 1]));
                tensors.Add(($"{prefix}.downsample.1.weight", "float32", [channels]));
                tensors.Add(($"{prefix}.downsample.1.bias", "float32", [channels]));
            }
        }
        Block("layer1.0", 64, 64, false);
        Block("layer1.1", 64, 64, false);
        Block("layer2.0", 128, 64, true);
        Block("layer2.1", 128, 128, false);
        tensors.Add(("fc.weight", "float32", [1000, 128]));
        tensors.Add(("fc.bias", "float32", [1000]));

        var sources = Generate("""
            using StateDict;

            namespace Vision.Models;

            /// <summary>A small ResNet.</summary>
            [StateDictSchema("resnet.schema.json")]
            public sealed partial class ResNet;
            """,
            GeneratorRunner.Schema("resnet.schema.json", TestSchemas.Of(tensors.ToArray())));

        Baselines.Verify(sources);
    }

    [Fact]
    public void Sequential_with_gaps_and_a_tensor_list()
    {
        var sources = Generate("""
            using StateDict;

            /// <summary>nn.Sequential(Linear, ReLU, Linear) plus a ParameterList.</summary>
            [StateDictSchema("Schemas/sequential.schema.json")]
            internal partial class SequentialNet;
            """,
            GeneratorRunner.Schema("Schemas/sequential.schema.json", TestSchemas.Of(
                ("0.weight", "float32", [8, 8]), ("0.bias", "float32", [8]),
                ("2.weight", "float32", [2, 8]), ("2.bias", "float32", [2]),
                ("scales.0", "float16", [8]), ("scales.1", "float16", [2]))));

        Baselines.Verify(sources);
    }

    [Fact]
    public void Selective_TensorKey_binding()
    {
        var sources = Generate("""
            using StateDict;

            namespace Text;

            /// <summary>Only GPT-2's embeddings.</summary>
            [StateDictSchema("gpt2.schema.json")]
            public partial class Gpt2Embeddings
            {
                /// <summary>Token embeddings.</summary>
                [TensorKey("transformer.wte.weight")]
                public partial TensorView<float> TokenEmbedding { get; }

                [TensorKey("transformer.wpe.weight")]
                internal partial TensorView<float> PositionEmbedding { get; }

                [TensorKey("step")]
                private partial TensorView<long> Step { get; }

                /// <summary>Uses the private property so it is not unused.</summary>
                public long Steps => Step.Span[0];
            }
            """,
            GeneratorRunner.Schema("gpt2.schema.json", TestSchemas.Of(
                ("transformer.wte.weight", "float32", [50257, 768]),
                ("transformer.wpe.weight", "float32", [1024, 768]),
                ("transformer.h.0.attn.c_attn.weight", "float32", [768, 2304]),
                ("step", "int64", [1]))));

        Baselines.Verify(sources);
    }

    [Fact]
    public void Class_nested_in_partial_containing_types_in_a_namespace()
    {
        var sources = Generate("""
            using StateDict;

            namespace App.Models
            {
                /// <summary>Holds the models.</summary>
                public static partial class Zoo
                {
                    /// <summary>A nested record.</summary>
                    public partial record Shelf
                    {
                        /// <summary>The tiny model.</summary>
                        [StateDictSchema("Schemas/tiny.schema.json")]
                        public partial class Tiny;
                    }
                }
            }
            """,
            GeneratorRunner.Schema("Schemas/tiny.schema.json", TestSchemas.Of(("encoder.weight", "float32", [3, 3]), ("head", "bfloat16", [3]))));

        Baselines.Verify(sources);
    }

    [Fact]
    public void Keys_that_need_renaming_and_escaping()
    {
        const string json = """
            {
              "format": "statedict-schema/1",
              "tensors": {
                "fc_1.weight": {"dtype": "float32", "shape": [2]},
                "fc1.weight": {"dtype": "float32", "shape": [2]},
                "schema": {"dtype": "float32", "shape": [2]},
                "conv-1.weight": {"dtype": "float32", "shape": [2]},
                "a<b>&c.weight": {"dtype": "float32", "shape": [2]},
                "quote\"d": {"dtype": "float32", "shape": [2]},
                "class.int": {"dtype": "int32", "shape": [2]},
                "größe": {"dtype": "uint8", "shape": [2]}
              }
            }
            """;
        var outcome = GeneratorRunner.Run("""
            using StateDict;

            namespace App;

            /// <summary>Odd keys.</summary>
            [StateDictSchema("odd.schema.json")]
            public partial class Odd;
            """, GeneratorRunner.Schema("odd.schema.json", json));

        Assert.Equal(new[] { "SD0020", "SD0020" }, outcome.Diagnostics.Select(d => d.Id));
        Assert.All(outcome.Diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.Empty(outcome.CompilationProblems);
        Baselines.Verify(outcome.Sources);
    }

    [Fact]
    public void Several_classes_each_get_their_own_file()
    {
        var sources = Generate("""
            using StateDict;

            namespace App;

            /// <summary>One.</summary>
            [StateDictSchema("a.schema.json")]
            public partial class First;

            /// <summary>Two, bound to the same schema.</summary>
            [StateDictSchema("./a.schema.json")]
            public partial class Second;

            /// <summary>Three, in the global namespace of another file would do too.</summary>
            [StateDictSchema("b.schema.json")]
            public partial class Third;
            """,
            GeneratorRunner.Schema("a.schema.json", TestSchemas.Keys("w")),
            GeneratorRunner.Schema("b.schema.json", TestSchemas.Keys("v")));

        Assert.Equal(new[] { "App.First.g.cs", "App.Second.g.cs", "App.Third.g.cs" }, sources.Keys.Order(StringComparer.Ordinal));
    }
}
