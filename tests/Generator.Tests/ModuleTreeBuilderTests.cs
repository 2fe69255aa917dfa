using System.Collections.Immutable;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>Keys to nested classes: modules, lists (with nullable members), ItemN properties, and collision handling.</summary>
public class ModuleTreeBuilderTests
{
    private const string SchemaPath = "/proj/m.schema.json";

    private static SchemaFile Schema(string json)
    {
        var schema = SchemaParser.Parse(SchemaPath, SourceText.From(json), default);
        Assert.Empty(schema.Diagnostics);
        return schema;
    }

    private static (ClassSpec Root, IReadOnlyList<DiagnosticInfo> Diagnostics) Build(string json, string className = "Net", params string[] reserved) =>
        ModuleTreeBuilder.Build(className, Schema(json).Tensors, reserved);

    private static ClassSpec Root(params string[] keys)
    {
        var (root, diagnostics) = Build(TestSchemas.Keys(keys));
        Assert.Empty(diagnostics);
        return root;
    }

    private static MemberSpec Member(ClassSpec spec, string name) =>
        Assert.Single(spec.Members, m => m.Name == name);

    private static ClassSpec Nested(ClassSpec spec, string typeName) =>
        Assert.Single(spec.Nested, n => n.TypeName == typeName);

    [Fact]
    public void Each_dotted_module_becomes_a_nested_class_and_each_tensor_a_property()
    {
        var root = Root("fc1.weight", "fc1.bias", "fc2.weight");

        Assert.Equal(new[] { ("Fc1", MemberKind.Module, "Fc1Module"), ("Fc2", MemberKind.Module, "Fc2Module") },
            root.Members.Select(m => (m.Name, m.Kind, m.Type)));
        var fc1 = Nested(root, "Fc1Module");
        Assert.Equal(new[] { ("Weight", "weight"), ("Bias", "bias") }, fc1.Members.Select(m => (m.Name, m.Segment)));
        Assert.All(fc1.Members, m => Assert.Equal((MemberKind.Tensor, "float"), (m.Kind, m.Type)));
        Assert.Equal("<c>fc1.weight</c>: float32 [2].", Member(fc1, "Weight").Doc);
    }

    [Fact]
    public void A_tensor_property_has_the_element_type_of_its_dtype()
    {
        var (root, _) = Build(TestSchemas.Of(
            ("a", "float16", [1]), ("b", "bfloat16", [1]), ("c", "int64", []), ("d", "bool", [1]), ("e", "complex128", [1])));

        Assert.Equal(
            new[] { "global::System.Half", "global::StateDict.BFloat16", "long", "bool", "global::System.Numerics.Complex" },
            root.Members.Select(m => m.Type));
    }

    [Fact]
    public void Members_keep_the_file_order_of_their_first_key()
    {
        var root = Root("z.weight", "a.weight", "m", "z.bias");

        Assert.Equal(new[] { "Z", "A", "M" }, root.Members.Select(m => m.Name));
        Assert.Equal(new[] { "Weight", "Bias" }, Nested(root, "ZModule").Members.Select(m => m.Name));
    }

    [Fact]
    public void Resnet_blocks_become_a_list_whose_downsample_is_nullable()
    {
        var (root, diagnostics) = Build(TestSchemas.Of(
            ("conv1.weight", "float32", [64, 3, 7, 7]),
            ("layer2.0.conv1.weight", "float32", [128, 64, 3, 3]),
            ("layer2.0.bn1.weight", "float32", [128]),
            ("layer2.0.bn1.num_batches_tracked", "int64", []),
            ("layer2.0.downsample.0.weight", "float32", [128, 64, 1, 1]),
            ("layer2.0.downsample.1.weight", "float32", [128]),
            ("layer2.0.downsample.1.bias", "float32", [128]),
            ("layer2.1.conv1.weight", "float32", [128, 128, 3, 3]),
            ("layer2.1.bn1.weight", "float32", [128]),
            ("layer2.1.bn1.num_batches_tracked", "int64", [])));

        Assert.Empty(diagnostics);
        var layer2 = Member(root, "Layer2");
        Assert.Equal((MemberKind.ModuleList, "Layer2Item", false), (layer2.Kind, layer2.Type, layer2.Nullable));
        var item = Nested(root, "Layer2Item");
        Assert.Equal(new[] { "Conv1", "Bn1", "Downsample" }, item.Members.Select(m => m.Name));
        var downsample = Member(item, "Downsample");
        Assert.Equal((MemberKind.Module, "DownsampleModule", true), (downsample.Kind, downsample.Type, downsample.Nullable));
        Assert.False(Member(item, "Conv1").Nullable);
        // Shapes differ between items; the doc lists both.
        Assert.Equal("<c>layer2.{i}.conv1.weight</c>: float32 [128, 64, 3, 3] or [128, 128, 3, 3].", Member(Nested(item, "Conv1Module"), "Weight").Doc);
        Assert.Equal("long", Member(Nested(item, "Bn1Module"), "NumBatchesTracked").Type);
        // A conv and a batch norm do not merge into one item type: the downsample keeps Item0 / Item1.
        Assert.Equal(new[] { "Item0", "Item1" }, Nested(item, "DownsampleModule").Members.Select(m => m.Name));
    }

    [Fact]
    public void Items_with_one_structure_become_a_list_of_one_item_class()
    {
        var root = Root("h.0.attn.c_attn.weight", "h.1.attn.c_attn.weight", "h.2.attn.c_attn.weight");

        var h = Member(root, "H");
        Assert.Equal((MemberKind.ModuleList, "HItem"), (h.Kind, h.Type));
        var item = Nested(root, "HItem");
        Assert.Equal("An item of <c>h</c> (<c>h.{i}</c>).", item.Doc);
        var attn = Nested(item, "AttnModule");
        Assert.Equal("CAttn", Assert.Single(attn.Members).Name);
        Assert.Equal("<c>h.{i}.attn.c_attn.weight</c>: float32 [2].", Assert.Single(Nested(attn, "CAttnModule").Members).Doc);
    }

    [Fact]
    public void Nested_lists_use_the_next_index_name()
    {
        var root = Root("blocks.0.mlp.0.weight", "blocks.0.mlp.1.weight", "blocks.1.mlp.0.weight", "blocks.1.mlp.1.weight");

        var block = Nested(root, "BlocksItem");
        var mlp = Member(block, "Mlp");
        Assert.Equal((MemberKind.ModuleList, "MlpItem"), (mlp.Kind, mlp.Type));
        Assert.Equal("<c>blocks.{i}.mlp.{j}.weight</c>: float32 [2].", Assert.Single(Nested(block, "MlpItem").Members).Doc);
    }

    [Fact]
    public void A_list_that_only_some_items_have_is_nullable()
    {
        var root = Root("layers.0.proj.weight", "layers.0.extra.0.weight", "layers.0.extra.1.weight", "layers.1.proj.weight");

        var extra = Member(Nested(root, "LayersItem"), "Extra");
        Assert.Equal((MemberKind.ModuleList, true), (extra.Kind, extra.Nullable));
    }

    [Fact]
    public void Sequential_indices_with_gaps_become_ItemN_properties()
    {
        var root = Root("0.weight", "0.bias", "2.weight", "2.bias");

        Assert.Equal(new[] { ("Item0", "0", "Item0Module"), ("Item2", "2", "Item2Module") }, root.Members.Select(m => (m.Name, m.Segment, m.Type)));
        Assert.All(root.Members, m => Assert.Equal(MemberKind.Module, m.Kind));
    }

    [Fact]
    public void Items_that_mix_tensors_and_modules_become_ItemN_properties()
    {
        var root = Root("features.0", "features.1.weight");

        var features = Nested(root, "FeaturesModule");
        Assert.Equal(new[] { ("Item0", MemberKind.Tensor), ("Item1", MemberKind.Module) }, features.Members.Select(m => (m.Name, m.Kind)));
    }

    [Fact]
    public void Items_that_share_no_member_become_ItemN_properties()
    {
        var root = Root("blocks.0.conv.weight", "blocks.1.bn.weight");

        Assert.Equal(MemberKind.Module, Member(root, "Blocks").Kind);
        Assert.Equal(new[] { "Item0", "Item1" }, Nested(root, "BlocksModule").Members.Select(m => m.Name));
    }

    [Fact]
    public void Items_where_only_some_have_a_tensor_are_not_merged()
    {
        var root = Root("blocks.0.weight", "blocks.0.bias", "blocks.1.weight");

        Assert.Equal(MemberKind.Module, Member(root, "Blocks").Kind);
        Assert.Equal(new[] { "Item0", "Item1" }, Nested(root, "BlocksModule").Members.Select(m => m.Name));
    }

    [Fact]
    public void Items_whose_tensors_differ_in_dtype_are_not_merged()
    {
        var (root, _) = Build(TestSchemas.Of(("blocks.0.weight", "float32", [1]), ("blocks.1.weight", "float16", [1])));

        Assert.Equal(MemberKind.Module, Member(root, "Blocks").Kind);
    }

    [Fact]
    public void Indexed_tensors_of_one_dtype_become_a_tensor_list()
    {
        var (root, _) = Build(TestSchemas.Of(("scales.0", "float32", [3]), ("scales.1", "float32", [4])));

        var scales = Assert.Single(root.Members);
        Assert.Equal((MemberKind.TensorList, "float", false), (scales.Kind, scales.Type, scales.Nullable));
        Assert.Equal("<c>scales.{i}</c>: float32 [3] or [4].", scales.Doc);
        Assert.Empty(root.Nested);
    }

    [Fact]
    public void Indexed_tensors_of_different_dtypes_become_ItemN_tensors()
    {
        var (root, _) = Build(TestSchemas.Of(("scales.0", "float32", [3]), ("scales.1", "int64", [3])));

        var scales = Nested(root, "ScalesModule");
        Assert.Equal(new[] { ("Item0", "float"), ("Item1", "long") }, scales.Members.Select(m => (m.Name, m.Type)));
    }

    [Fact]
    public void Colliding_names_get_a_numbered_suffix_in_key_order_and_SD0020()
    {
        string json = TestSchemas.Keys("fc_1.weight", "fc1.weight");

        var (root, diagnostics) = Build(json);

        Assert.Equal(new[] { ("Fc1", "fc_1", "Fc1Module"), ("Fc1_2", "fc1", "Fc1_2Module") }, root.Members.Select(m => (m.Name, m.Segment, m.Type)));
        var renamed = Assert.Single(diagnostics);
        Assert.Equal("SD0020", renamed.Id);
        Assert.Equal(new[] { "fc1", "fc1.weight", "Fc1_2", "Fc1" }, renamed.Arguments);
        var at = renamed.Location!;
        Assert.Equal(SchemaPath, at.FilePath);
        Assert.Equal("\"fc1.weight\"", json.Substring(at.Span.Start, at.Span.Length));
        Assert.Equal(4, at.LineSpan.Start.Line);
    }

    [Fact]
    public void A_root_segment_named_like_a_generated_member_is_renamed()
    {
        var (root, diagnostics) = Build(TestSchemas.Keys("schema.weight", "load"), "Net", "Load", "From", "Schema", "Report", "Dispose");

        Assert.Equal(new[] { "Schema_2", "Load_2" }, root.Members.Select(m => m.Name));
        Assert.Equal(new[] { "Schema_2", "Load_2" }, diagnostics.Select(d => d.Arguments[2]));
    }

    [Fact]
    public void A_member_named_like_its_class_is_renamed()
    {
        var (root, diagnostics) = Build(TestSchemas.Keys("net.weight", "block.block_module"));

        Assert.Equal("Net_2", root.Members[0].Name);
        Assert.Equal("BlockModule_2", Assert.Single(Nested(root, "BlockModule").Members).Name);
        Assert.Equal(2, diagnostics.Count);
    }

    [Fact]
    public void A_member_named_like_an_object_method_is_renamed()
    {
        var (root, diagnostics) = Build(TestSchemas.Keys("to_string", "equals.weight", "get_type"));

        Assert.Equal(new[] { "ToString_2", "Equals_2", "GetType_2" }, root.Members.Select(m => m.Name));
        Assert.Equal(3, diagnostics.Count);
    }

    [Fact]
    public void A_nested_class_never_takes_the_name_of_a_member()
    {
        var (root, diagnostics) = Build(TestSchemas.Keys("fc.weight", "fc_module.weight"));

        Assert.Empty(diagnostics);
        Assert.Equal(new[] { ("Fc", "FcModule_2"), ("FcModule", "FcModuleModule") }, root.Members.Select(m => (m.Name, m.Type)));
        Assert.Equal(new[] { "FcModule_2", "FcModuleModule" }, root.Nested.Select(n => n.TypeName));
    }

    [Fact]
    public void Names_declared_by_the_user_are_reserved()
    {
        var (root, diagnostics) = Build(TestSchemas.Keys("helper.weight"), "Net", "Helper");

        Assert.Equal("Helper_2", Assert.Single(root.Members).Name);
        Assert.Single(diagnostics);
    }

    [Fact]
    public void Renames_inside_an_attempted_list_that_fails_are_not_reported_twice()
    {
        // Item classes are tried first; when the merge fails the items are rebuilt as ItemN modules.
        var (root, diagnostics) = Build(TestSchemas.Keys("blocks.0.fc_1", "blocks.0.fc1", "blocks.0.bias", "blocks.1.fc_1", "blocks.1.fc1"));

        Assert.Equal(MemberKind.Module, Member(root, "Blocks").Kind);
        Assert.Equal(new[] { "blocks.0.fc1", "blocks.1.fc1" }, diagnostics.Select(d => d.Arguments[1]));
    }

    [Fact]
    public void Building_twice_gives_equal_specs()
    {
        var first = Root("layer1.0.conv.weight", "layer1.1.conv.weight", "fc.weight");
        var second = Root("layer1.0.conv.weight", "layer1.1.conv.weight", "fc.weight");

        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
    }

    [Fact]
    public void The_resolved_spec_renames_a_root_schema_key_because_Schema_is_generated()
    {
        const string json = """{"format": "statedict-schema/1", "tensors": {"schema": {"dtype": "float32", "shape": [1]}}}""";
        var schema = SchemaParser.Parse(SchemaPath, SourceText.From(json), default);
        var target = new TargetSpec("App", EquatableArray<ContainingType>.Empty, "Net", "App.Net", "m.schema.json", null,
            EquatableArray<BoundProperty>.Empty, EquatableArray<string>.Empty, EquatableArray<DiagnosticInfo>.Empty);

        var resolution = Resolution.Resolve(target, ImmutableArray.Create(schema), "/proj/");

        Assert.Equal("Schema_2", Assert.Single(resolution.Spec!.Root!.Members).Name);
        Assert.Equal("SD0020", Assert.Single(resolution.Diagnostics).Id);
    }
}
