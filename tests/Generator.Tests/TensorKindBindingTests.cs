using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>
/// Sparse, quantized and meta entries bind with the property type of their kind (SparseTensor&lt;T&gt;, QuantizedTensor,
/// TensorInfo) in generated trees, [TensorKey] properties and [StateDictModule] classes: baselines, and the generated code
/// compiles with every warning wave.
/// </summary>
public class TensorKindBindingTests
{
    private static IReadOnlyDictionary<string, string> Generate(string source, string json) =>
        OutputBaselineTests.Generate(source, GeneratorRunner.Schema("kinds.schema.json", json));

    [Fact]
    public void Tensor_kinds_in_a_generated_tree()
    {
        var sources = Generate("""
            using StateDict;

            namespace App;

            /// <summary>Every tensor kind.</summary>
            [StateDictSchema("kinds.schema.json")]
            public partial class Kinds;
            """, TestSchemas.Kinds);

        Baselines.Verify(sources);
    }

    [Fact]
    public void Tensor_kinds_in_TensorKey_properties_and_a_module_class()
    {
        var sources = Generate("""
            using System.Collections.Generic;
            using StateDict;

            namespace App;

            /// <summary>The kinds bound by hand.</summary>
            [StateDictSchema("kinds.schema.json", Ignore = new[] { "csr", "fc.*" })]
            public partial class KindsByHand
            {
                /// <summary>The adjacency matrix.</summary>
                [TensorKey("adj")] public partial SparseTensor<float> Adjacency { get; }

                /// <summary>The 4-bit embedding.</summary>
                [TensorKey("emb")] public partial QuantizedTensor Embedding { get; }

                /// <summary>A tensor with no data.</summary>
                [TensorKey("ghost")] internal partial TensorInfo Ghost { get; }

                /// <summary>The quantized layers.</summary>
                [ModuleList("layers")] public partial IReadOnlyList<QuantizedLayer> Layers { get; }
            }

            /// <summary>A quantized linear layer.</summary>
            [StateDictModule]
            public partial class QuantizedLayer
            {
                /// <summary>The qint8 weight.</summary>
                [TensorKey("weight")] public partial QuantizedTensor Weight { get; }

                /// <summary>The bias.</summary>
                [TensorKey("bias")] public partial TensorView<float> Bias { get; }
            }
            """, TestSchemas.Kinds);

        Baselines.Verify(sources);
    }

    [Fact]
    public void List_items_whose_tensors_differ_in_kind_become_item_properties()
    {
        var sources = Generate("""
            using StateDict;
            [StateDictSchema("kinds.schema.json")]
            internal partial class Mixed;
            """, """
            {"format": "statedict-schema/1", "tensors": {
              "w.0": {"dtype": "int8", "shape": [2], "quantized_dtype": "qint8", "qscheme": "per_tensor_affine"},
              "w.1": {"dtype": "int8", "shape": [2]},
              "m.0.a": {"dtype": "int8", "shape": [2], "quantized_dtype": "qint8", "qscheme": "per_tensor_affine"},
              "m.1.a": {"dtype": "int8", "shape": [2]},
              "q.0": {"dtype": "int8", "shape": [2], "quantized_dtype": "qint8", "qscheme": "per_tensor_affine"},
              "q.1": {"dtype": "int8", "shape": [2], "quantized_dtype": "qint8", "qscheme": "per_tensor_affine"}
            }}
            """);

        string code = sources.Values.Single();
        Assert.Contains("public global::StateDict.QuantizedTensor Item0 { get; }", code, StringComparison.Ordinal);
        Assert.Contains("public global::StateDict.TensorView<sbyte> Item1 { get; }", code, StringComparison.Ordinal);
        Assert.Contains("public global::StateDict.QuantizedTensor A { get; }", code, StringComparison.Ordinal);
        Assert.Equal(1, code.Split("IReadOnlyList<").Length - 1); // Schema's; no list of tensors or modules
        Assert.Equal(3, code.Split("public global::StateDict.QuantizedTensor Item").Length - 1); // w.0, q.0, q.1: no list of quantized tensors
    }
}
