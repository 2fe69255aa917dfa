using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Tests.Infrastructure;
using static StateDict.Generator.Tests.Infrastructure.StateDictGeneratorTest;

namespace StateDict.Generator.Tests;

/// <summary>
/// Each diagnostic through Microsoft.CodeAnalysis.Testing: id, exact location (C# markup <c>{|#0:…|}</c>, or a span in
/// the schema file) and the formatted message.
/// </summary>
public class DiagnosticTests
{
    private const string SchemaFile = "/0/m.schema.json";

    private const string Net = """
        using StateDict;
        [StateDictSchema("m.schema.json")]
        internal partial class Net;
        """;

    private static (string, string)[] Schema(string json) => [("m.schema.json", json)];

    private static readonly string Gpt2 = TestSchemas.Of(
        ("transformer.wte.weight", "float32", [50257, 768]),
        ("transformer.wpe.weight", "float32", [1024, 768]),
        ("step", "int64", [1]));

    [Fact]
    public Task A_valid_class_and_schema_report_nothing() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Keys("fc.weight")));

    // SD0001

    [Fact]
    public Task SD0001_a_schema_missing_from_AdditionalFiles_is_reported_on_the_attribute_argument_listing_the_schemas_that_are() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema({|#0:"Schemas/missing.schema.json"|})]
            internal partial class Net;
            """,
            [("b.schema.json", TestSchemas.Keys("w")), ("Schemas/a.schema.json", TestSchemas.Keys("w")), ("stylecop.json", "{\"settings\": {}}")],
            Diagnostic(Descriptors.SchemaNotFound).WithLocation(0)
                .WithArguments("Schemas/missing.schema.json", "; schema files that are: a.schema.json, b.schema.json"));

    [Fact]
    public Task SD0001_with_no_schema_files_at_all_says_so() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema({|#0:"m.schema.json"|})]
            internal partial class Net;
            """,
            [],
            Diagnostic(Descriptors.SchemaNotFound).WithLocation(0).WithArguments("m.schema.json", " (no schema files are)"));

    [Fact]
    public Task SD0001_for_a_checkpoint_path_suggests_a_StateDictCheckpoint_item() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema({|#0:"weights/model.pth"|})]
            internal partial class Net;
            """,
            [],
            Diagnostic(Descriptors.SchemaNotFound).WithLocation(0)
                .WithArguments("weights/model.pth", " (no schema files are); add <StateDictCheckpoint Include=\"weights/model.pth\" /> to the project"));

    [Fact]
    public Task A_schema_is_found_by_its_path_relative_to_the_project_directory() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("Schemas/../Schemas/./m.schema.json")]
            internal partial class Net;
            """,
            [("Schemas/m.schema.json", TestSchemas.Keys("w")), ("Other/m.schema.json", TestSchemas.Keys("v"))]);

    [Fact]
    public Task A_schema_is_found_by_its_file_name_when_that_name_is_unique() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Net;
            """,
            [("deep/er/m.schema.json", TestSchemas.Keys("w"))]);

    [Fact]
    public Task A_file_name_shared_by_two_schemas_is_ambiguous_and_not_guessed() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema({|#0:"m.schema.json"|})]
            internal partial class Net;
            """,
            [("a/m.schema.json", TestSchemas.Keys("w")), ("b/m.schema.json", TestSchemas.Keys("w"))],
            Diagnostic(Descriptors.SchemaNotFound).WithLocation(0).WithArguments("m.schema.json", "; schema files that are: m.schema.json, m.schema.json"));

    // SD0002–SD0008: located in the schema file.

    [Fact]
    public Task SD0002_malformed_json_is_located_at_the_line_and_column_in_the_schema_file() =>
        VerifyGeneratorAsync(Net, Schema("{\n  \"format\": \"statedict-schema/1\",\n  \"tensors\": {\n    \"a\": {\"dtype\": \"float32\" \"shape\": [1]}\n  }\n}\n"),
            Diagnostic(Descriptors.MalformedJson).WithSpan(SchemaFile, 4, 30, 4, 31)
                .WithArguments("m.schema.json", "expected ',' or '}' but found '\"' (line 4, column 30)"));

    [Fact]
    public Task SD0003_json_that_is_not_a_schema_is_located_at_the_format_value() =>
        VerifyGeneratorAsync(Net, Schema("""{"format": "other"}"""),
            Diagnostic(Descriptors.NotASchema).WithSpan(SchemaFile, 1, 12, 1, 19)
                .WithArguments("m.schema.json", "expected \"format\": \"statedict-schema/1\""));

    [Fact]
    public Task SD0004_an_unknown_dtype_is_located_at_the_dtype_value() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Of(("w", "float33", [2]))),
            Diagnostic(Descriptors.UnknownDType).WithSpan(SchemaFile, 4, 20, 4, 29).WithArguments("w", "float33"));

    [Fact]
    public Task SD0005_an_invalid_dimension_is_located_at_the_dimension() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Of(("w", "float32", [-1]))),
            Diagnostic(Descriptors.BadShape).WithSpan(SchemaFile, 4, 41, 4, 43).WithArguments("w", "dimension 0 is not a non-negative integer"));

    [Fact]
    public Task SD0006_a_duplicate_key_is_located_at_its_second_occurrence() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Of(("w", "float32", [2]), ("w", "float32", [2]))),
            Diagnostic(Descriptors.DuplicateKey).WithSpan(SchemaFile, 5, 5, 5, 8).WithArguments("w"));

    [Fact]
    public Task SD0007_a_tensor_that_is_also_a_module_is_located_at_the_tensor_key() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Of(("enc", "float32", [2]), ("enc.w", "float32", [2]))),
            Diagnostic(Descriptors.TensorAndModule).WithSpan(SchemaFile, 4, 5, 4, 10).WithArguments("enc", "enc.w"));

    [Fact]
    public Task SD0008_a_key_with_an_empty_segment_is_located_at_the_key() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Of(("a..b", "float32", [2]))),
            Diagnostic(Descriptors.InvalidKey).WithSpan(SchemaFile, 4, 5, 4, 11).WithArguments("a..b", "it has an empty segment"));

    [Fact]
    public Task A_broken_schema_bound_by_two_classes_reports_each_problem_once() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class A;
            [StateDictSchema("m.schema.json")]
            internal partial class B;
            """, Schema(TestSchemas.Of(("w", "float33", [2]))),
            Diagnostic(Descriptors.UnknownDType).WithSpan(SchemaFile, 4, 20, 4, 29).WithArguments("w", "float33"));

    [Fact]
    public Task Two_classes_with_their_own_problems_each_report_theirs() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema({|#0:"x.schema.json"|})]
            internal partial class A;
            [StateDictSchema({|#1:"y.schema.json"|})]
            internal partial class B;
            """, [],
            Diagnostic(Descriptors.SchemaNotFound).WithLocation(0).WithArguments("x.schema.json", " (no schema files are)"),
            Diagnostic(Descriptors.SchemaNotFound).WithLocation(1).WithArguments("y.schema.json", " (no schema files are)"));

    // SD0010–SD0012: the class.

    [Fact]
    public Task SD0010_a_class_that_is_not_partial_is_reported_on_its_name() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal class {|#0:Net|};
            """, Schema(TestSchemas.Keys("w")),
            Diagnostic(Descriptors.NotPartial).WithLocation(0).WithArguments("Net"));

    [Fact]
    public Task SD0011_a_generic_class_is_reported_on_its_name() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class {|#0:Net|}<T>;
            """, Schema(TestSchemas.Keys("w")),
            Diagnostic(Descriptors.Generic).WithLocation(0).WithArguments("Net"));

    [Fact]
    public Task SD0011_a_class_inside_a_generic_class_is_generic_too() =>
        VerifyGeneratorAsync("""
            using StateDict;
            internal partial class Outer<T>
            {
                [StateDictSchema("m.schema.json")]
                internal partial class {|#0:Net|};
            }
            """, Schema(TestSchemas.Keys("w")),
            Diagnostic(Descriptors.Generic).WithLocation(0).WithArguments("Net"));

    [Fact]
    public Task SD0012_a_containing_type_that_is_not_partial_is_reported_on_the_class_name() =>
        VerifyGeneratorAsync("""
            using StateDict;
            internal partial class Outer
            {
                internal class Middle
                {
                    [StateDictSchema("m.schema.json")]
                    internal partial class {|#0:Net|};
                }
            }
            """, Schema(TestSchemas.Keys("w")),
            Diagnostic(Descriptors.ContainerNotPartial).WithLocation(0).WithArguments("Net", "Middle"));

    [Theory]
    [InlineData("internal static partial class", "static class")]
    [InlineData("internal abstract partial class", "abstract class")]
    [InlineData("internal partial record", "record")]
    [InlineData("internal partial struct", "struct")]
    public Task SD0017_only_a_concrete_class_can_bind_a_schema(string declaration, string kind) =>
        VerifyGeneratorAsync($$"""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            {{declaration}} {|#0:Net|};
            """, Schema(TestSchemas.Keys("w")),
            Diagnostic(Descriptors.NotAConcreteClass).WithLocation(0).WithArguments("Net", kind));

    // SD0013–SD0016: [TensorKey] properties.

    [Fact]
    public Task SD0013_a_misspelt_key_is_reported_on_the_key_with_a_suggestion() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Embeddings
            {
                [TensorKey({|#0:"transformer.wte.weigth"|})]
                public partial TensorView<float> TokenEmbedding { get; }
            }
            """, Schema(Gpt2),
            Diagnostic(Descriptors.UnknownTensorKey).WithLocation(0)
                .WithArguments("transformer.wte.weigth", "m.schema.json", "; did you mean 'transformer.wte.weight'?"));

    [Fact]
    public Task SD0013_a_key_like_no_other_gets_no_suggestion() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Embeddings
            {
                [TensorKey({|#0:"decoder.lm_head.bias"|})]
                public partial TensorView<float> Bias { get; }
            }
            """, Schema(Gpt2),
            Diagnostic(Descriptors.UnknownTensorKey).WithLocation(0).WithArguments("decoder.lm_head.bias", "m.schema.json", ""));

    [Fact]
    public Task SD0014_an_element_type_that_does_not_match_the_dtype_is_reported_on_the_property_type() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Embeddings
            {
                [TensorKey("transformer.wte.weight")]
                public partial {|#0:TensorView<long>|} TokenEmbedding { get; }

                [TensorKey("step")]
                public partial {|#1:TensorView<int>|} Step { get; }
            }
            """, Schema(Gpt2),
            Diagnostic(Descriptors.ElementTypeMismatch).WithLocation(0).WithArguments("transformer.wte.weight", "float32", "float", "TensorView<long>"),
            Diagnostic(Descriptors.ElementTypeMismatch).WithLocation(1).WithArguments("step", "int64", "long", "TensorView<int>"));

    [Theory]
    [InlineData("public TensorView<float> {|#0:W|} { get; }")]
    [InlineData("public partial TensorView<float> {|#0:W|} { get; set; }")]
    [InlineData("public partial TensorView<float> {|#0:W|} { get; init; }")]
    [InlineData("public static partial TensorView<float> {|#0:W|} { get; }")]
    [InlineData("public partial float[] {|#0:W|} { get; }")]
    [InlineData("public partial TensorView<float>? {|#0:W|} { get; }")]
    public Task SD0015_a_TensorKey_property_that_is_not_a_partial_getter_of_TensorView_is_reported_on_its_name(string declaration) =>
        VerifyGeneratorAsync($$"""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Embeddings
            {
                [TensorKey("transformer.wte.weight")]
                {{declaration}}
            }
            """, Schema(Gpt2),
            Diagnostic(Descriptors.BadTensorKeyProperty).WithLocation(0).WithArguments("W"));

    [Fact]
    public Task SD0016_a_key_bound_twice_is_reported_on_the_second_binding() =>
        VerifyGeneratorAsync("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Embeddings
            {
                [TensorKey("transformer.wte.weight")]
                public partial TensorView<float> A { get; }

                [TensorKey({|#0:"transformer.wte.weight"|})]
                public partial TensorView<float> B { get; }
            }
            """, Schema(Gpt2),
            Diagnostic(Descriptors.DuplicateTensorKey).WithLocation(0).WithArguments("transformer.wte.weight"));

    // SD0020

    [Fact]
    public Task SD0020_a_renamed_member_is_a_warning_located_at_the_key_in_the_schema() =>
        VerifyGeneratorAsync(Net, Schema(TestSchemas.Keys("fc_1.weight", "fc1.weight")),
            Diagnostic(Descriptors.Renamed).WithSpan(SchemaFile, 5, 5, 5, 17).WithSeverity(DiagnosticSeverity.Warning)
                .WithArguments("fc1", "fc1.weight", "Fc1_2", "Fc1"));

    // Files nobody asked for.

    [Fact]
    public Task Json_files_that_no_class_references_are_ignored_even_when_malformed() =>
        VerifyGeneratorAsync("internal class Unrelated { }",
            [("stylecop.json", """{"$schema": "https://example.invalid/stylecop.schema.json", "settings": {}}"""), ("broken.json", "{ nope"), ("m.schema.json", "{\"format\": \"x\"}")]);

    [Fact]
    public Task An_unrelated_json_file_next_to_a_bound_schema_adds_nothing() =>
        VerifyGeneratorAsync(Net, [("m.schema.json", TestSchemas.Keys("w")), ("stylecop.json", "{\"settings\": {\"documentationRules\": {}}}"), ("broken.json", "[")]);
}
