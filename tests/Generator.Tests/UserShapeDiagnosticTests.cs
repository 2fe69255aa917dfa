using Microsoft.CodeAnalysis.Testing;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Tests.Infrastructure;
using static StateDict.Generator.Tests.Infrastructure.StateDictGeneratorTest;

namespace StateDict.Generator.Tests;

/// <summary>The diagnostics of user-shaped classes: id, exact location (the attribute argument) and message.</summary>
public class UserShapeDiagnosticTests
{
    private static (string, string)[] Schema(params (string Key, string DType, long[] Shape)[] tensors) => [("m.schema.json", TestSchemas.Of(tensors))];

    private static (string, string)[] Layers(params int[] items) =>
        Schema(items.Select(i => ($"model.layers.{i}.self_attn.{(i == 3 ? "q_prj" : "q_proj")}.weight", "bfloat16", new long[] { 8, 8 }))
            .Append(("model.norm.weight", "float32", [8])).ToArray());

    private static string Root(string members, string modules = "") => $$"""
        using System.Collections.Generic;
        using StateDict;
        [StateDictSchema("m.schema.json")]
        internal partial class Net
        {
            {{members}}
        }
        [StateDictModule]
        internal partial class Block
        {
            [TensorKey({|#0:"self_attn.q_proj.weight"|})] public partial TensorView<float> Wq { get; }
        }
        {{modules}}
        """;

    [Fact]
    public Task Conversions_bfloat16_to_float_and_int64_to_double_are_allowed() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Net
            {
                [TensorKey("w")] public partial TensorView<float> W { get; }
                [TensorKey("w")] public partial TensorView<System.Half> WHalf { get; }
                [TensorKey("steps")] public partial TensorView<double> Steps { get; }
            }
            """, Schema(("w", "bfloat16", [2]), ("steps", "int64", [])),
            Diagnostic(Descriptors.DuplicateTensorKey).WithSpan("/0/Test0.cs", 6, 16, 6, 19).WithArguments("w"));

    [Fact]
    public Task SD0014_a_bool_tensor_does_not_convert_to_float() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Net
            {
                [TensorKey("mask")] public partial {|#0:TensorView<float>|} Mask { get; }
            }
            """, Schema(("mask", "bool", [2])),
            Diagnostic(Descriptors.ElementTypeMismatch).WithLocation(0).WithArguments("mask", "bool", "bool", "TensorView<float>"));

    [Fact]
    public Task SD0013_names_the_list_item_whose_key_is_missing_with_a_suggestion() =>
        VerifyGeneratorAsync(Root("""[ModuleList("model.layers")] public partial IReadOnlyList<Block> Layers { get; }"""), Layers(0, 1, 2, 3),
            Diagnostic(Descriptors.UnknownTensorKey).WithLocation(0).WithArguments(
                "model.layers.3.self_attn.q_proj.weight", "m.schema.json", " (item 3 of Layers); did you mean 'model.layers.3.self_attn.q_prj.weight'?"));

    [Fact]
    public Task SD0013_a_module_class_used_under_two_prefixes_is_checked_under_both() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Net
            {
                [Module("enc")] public partial Linear Enc { get; }
                [Module("dec")] public partial Linear Dec { get; }
            }
            [StateDictModule]
            internal partial class Linear
            {
                [TensorKey({|#0:"weight"|})] public partial TensorView<float> Weight { get; }
            }
            """, Schema(("enc.weight", "float32", [2]), ("dec.wieght", "float32", [2])),
            Diagnostic(Descriptors.UnknownTensorKey).WithLocation(0).WithArguments("dec.weight", "m.schema.json", " (in Dec); did you mean 'dec.wieght'?"));

    [Fact]
    public Task SD0018_ConvertTo_must_be_a_floating_type() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json", {|#0:ConvertTo = typeof(int)|})]
            internal partial class Net;
            """, Schema(("w", "float32", [2])),
            Diagnostic(Descriptors.BadConvertTo).WithLocation(0).WithArguments("int"));

    [Fact]
    public Task SD0030_chunks_that_do_not_divide_dimension_0_are_reported_on_Chunks() =>
        VerifyGeneratorAsync(Root("""[TensorKey("qkv", Chunk = 1, {|#1:Chunks = 5|})] public partial TensorView<float> K { get; }"""),
            Schema(("qkv", "float32", [24, 8])),
            Diagnostic(Descriptors.ChunkDoesNotDivide).WithLocation(1).WithArguments("qkv", "24, 8", "5"));

    [Fact]
    public Task SD0030_a_scalar_cannot_be_chunked() =>
        VerifyGeneratorAsync(Root("""[TensorKey("s", {|#1:Chunks = 2|})] public partial TensorView<float> S { get; }"""),
            Schema(("s", "float32", [])),
            Diagnostic(Descriptors.ChunkDoesNotDivide).WithLocation(1).WithArguments("s", "", "2"));

    [Fact]
    public Task SD0031_a_chunk_index_out_of_range_is_reported_on_Chunk() =>
        VerifyGeneratorAsync(Root("""[TensorKey("qkv", {|#1:Chunk = 3|}, Chunks = 3)] public partial TensorView<float> K { get; }"""),
            Schema(("qkv", "float32", [24, 8])),
            Diagnostic(Descriptors.ChunkOutOfRange).WithLocation(1).WithArguments("3", "3", "qkv"));

    [Fact]
    public Task SD0016_the_same_chunk_bound_twice_is_a_duplicate_but_different_chunks_are_not() =>
        VerifyGeneratorAsync(Root("""
            [TensorKey("qkv", Chunk = 0, Chunks = 3)] public partial TensorView<float> Q { get; }
                [TensorKey("qkv", Chunk = 1, Chunks = 3)] public partial TensorView<float> K { get; }
                [TensorKey({|#1:"qkv"|}, Chunk = 1, Chunks = 3)] public partial TensorView<float> K2 { get; }
            """),
            Schema(("qkv", "float32", [24, 8])),
            Diagnostic(Descriptors.DuplicateTensorKey).WithLocation(1).WithArguments("qkv"));

    [Fact]
    public Task SD0032_a_fallback_key_missing_from_the_schema_is_reported_on_Fallback() =>
        VerifyGeneratorAsync(Root("""[TensorKey("lm_head.weight", {|#1:Fallback = "embed.wieght"|})] public partial TensorView<float> Head { get; }"""),
            Schema(("embed.weight", "float32", [4, 2])),
            Diagnostic(Descriptors.FallbackMissing).WithLocation(1).WithArguments("embed.wieght", "lm_head.weight", "m.schema.json", "; did you mean 'embed.weight'?"));

    [Fact]
    public Task SD0033_a_fallback_of_another_shape_is_reported_on_Fallback() =>
        VerifyGeneratorAsync(Root("""[TensorKey("lm_head.weight", {|#1:Fallback = "embed.weight"|})] public partial TensorView<float> Head { get; }"""),
            Schema(("embed.weight", "float32", [16, 8]), ("lm_head.weight", "float32", [32, 8])),
            Diagnostic(Descriptors.FallbackDiffers).WithLocation(1).WithArguments("embed.weight", "float32", "16, 8", "lm_head.weight", "float32", "32, 8"));

    [Fact]
    public Task SD0034_an_empty_module_list_suggests_the_list_that_is() =>
        VerifyGeneratorAsync(Root("""[ModuleList({|#1:"model.layer"|})] public partial IReadOnlyList<Block> Layers { get; }"""), Layers(0, 1),
            Diagnostic(Descriptors.ModuleListEmpty).WithLocation(1).WithArguments("model.layer", "m.schema.json", "; did you mean 'model.layers'?"));

    [Fact]
    public Task SD0035_a_module_list_with_gaps_names_the_missing_items() =>
        VerifyGeneratorAsync(Root("""[ModuleList({|#1:"model.layers"|})] public partial IReadOnlyList<Block> Layers { get; }"""), Layers(0, 1, 4),
            Diagnostic(Descriptors.ModuleListGaps).WithLocation(1).WithArguments("model.layers", "0, 1, 4", "m.schema.json", "2, 3"));

    [Fact]
    public Task SD0036_a_module_class_without_StateDictModule_is_reported_where_it_is_used() =>
        VerifyGeneratorAsync(Root("""[Module({|#1:"model.norm"|})] public partial Norm FinalNorm { get; }""", "internal partial class Norm { }"), Layers(0),
            Diagnostic(Descriptors.BadModuleType).WithLocation(1).WithArguments("Norm", "it has no [StateDictModule] attribute"));

    [Fact]
    public Task SD0036_a_module_class_that_is_not_partial_is_reported_on_it_and_where_it_is_used() =>
        VerifyGeneratorAsync(Root("""[Module({|#1:"model.norm"|})] public partial Norm FinalNorm { get; }""", "[StateDictModule] internal class {|#2:Norm|} { }"), Layers(0),
            Diagnostic(Descriptors.BadModuleType).WithLocation(1).WithArguments("Norm", "it is not partial"),
            Diagnostic(Descriptors.BadModuleType).WithLocation(2).WithArguments("Norm", "it is not partial"));

    [Fact]
    public Task SD0036_a_module_class_that_contains_itself_is_reported() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Net
            {
                [Module("tree")] public partial Node Tree { get; }
            }
            [StateDictModule]
            internal partial class Node
            {
                [TensorKey("w")] public partial TensorView<float> W { get; }
                [Module({|#0:"child"|})] public partial Node Child { get; }
            }
            """, Schema(("tree.w", "float32", [2]), ("tree.child.w", "float32", [2])),
            Diagnostic(Descriptors.BadModuleType).WithLocation(0).WithArguments("Node", "it contains itself (through Tree.Child)"));

    [Fact]
    public Task SD0037_a_Module_property_must_have_a_module_class_type() =>
        VerifyGeneratorAsync(Root("""[Module("model.norm")] public partial TensorView<float> {|#1:FinalNorm|} { get; }"""), Layers(0),
            Diagnostic(Descriptors.BadModuleProperty).WithLocation(1).WithArguments("FinalNorm", "[Module]", "a [StateDictModule] class"));

    [Fact]
    public Task SD0037_a_ModuleList_property_must_be_an_IReadOnlyList() =>
        VerifyGeneratorAsync(Root("""[ModuleList("model.layers")] public partial Block[] {|#1:Layers|} { get; }"""), Layers(0),
            Diagnostic(Descriptors.BadModuleProperty).WithLocation(1).WithArguments("Layers", "[ModuleList]", "IReadOnlyList<T> of a [StateDictModule] class T"));
}
