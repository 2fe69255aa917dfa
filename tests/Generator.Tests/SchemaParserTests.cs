using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;

namespace StateDict.Generator.Tests;

/// <summary>Schema files to <see cref="SchemaFile"/>: tensors in file order, and each problem (SD0002–SD0008) at its exact place.</summary>
public class SchemaParserTests
{
    private const string Path = "/proj/Schemas/m.schema.json";

    private static SchemaFile Parse(string json) => SchemaParser.Parse(Path, SourceText.From(json), default);

    private static string Wrap(string tensors) => "{\n  \"format\": \"statedict-schema/1\",\n  \"tensors\": {\n" + tensors + "\n  }\n}\n";

    /// <summary>Asserts the diagnostic covers exactly <paramref name="text"/>, starting at 1-based <paramref name="line"/>:<paramref name="column"/>.</summary>
    private static void AssertAt(DiagnosticInfo diagnostic, string json, string text, int line, int column)
    {
        var location = Assert.IsType<LocationInfo>(diagnostic.Location);
        Assert.Equal(Path, location.FilePath);
        Assert.Equal(text, json.Substring(location.Span.Start, location.Span.Length));
        Assert.Equal(new LinePosition(line - 1, column - 1), location.LineSpan.Start);
    }

    [Fact]
    public void A_valid_schema_gives_its_tensors_in_file_order()
    {
        var schema = Parse(Wrap("""
                "fc2.weight": {"dtype": "float32", "shape": [4, 32]},
                "fc1.weight": {"dtype": "float16", "shape": [32, 16]},
                "bn.num_batches_tracked": {"dtype": "int64", "shape": []}
            """));

        Assert.True(schema.IsSchema);
        Assert.Empty(schema.Diagnostics);
        Assert.Equal("m.schema.json", schema.FileName);
        Assert.Equal(
            new[] { ("fc2.weight", "float32", "4,32"), ("fc1.weight", "float16", "32,16"), ("bn.num_batches_tracked", "int64", "") },
            schema.Tensors.Select(t => (t.Key, t.DType, string.Join(",", t.Shape))));
    }

    [Fact]
    public void A_tensor_remembers_where_its_key_is_in_the_file()
    {
        string json = Wrap("""    "fc1.weight": {"dtype": "float32", "shape": [2]}""");

        var tensor = Assert.Single(Parse(json).Tensors);

        Assert.Equal("\"fc1.weight\"", json.Substring(tensor.KeyLocation.Span.Start, tensor.KeyLocation.Span.Length));
        Assert.Equal(new LinePosition(3, 4), tensor.KeyLocation.LineSpan.Start);
    }

    [Theory]
    [InlineData("torch.float32", "float32")]
    [InlineData("float", "float32")]
    [InlineData("double", "float64")]
    [InlineData("half", "float16")]
    [InlineData("torch.long", "int64")]
    [InlineData("int", "int32")]
    [InlineData("short", "int16")]
    [InlineData("cfloat", "complex64")]
    [InlineData("cdouble", "complex128")]
    [InlineData("bfloat16", "bfloat16")]
    [InlineData("float8_e4m3fn", "float8_e4m3fn")]
    [InlineData("uint64", "uint64")]
    [InlineData("bool", "bool")]
    public void Dtype_names_and_aliases_are_canonicalised(string written, string canonical)
    {
        var tensor = Assert.Single(Parse(Wrap($$"""    "t": {"dtype": "{{written}}", "shape": [1]}""")).Tensors);

        Assert.Equal(canonical, tensor.DType);
    }

    [Fact]
    public void Whitespace_and_layout_do_not_change_the_tensors()
    {
        const string pretty = """
            {
              "format": "statedict-schema/1",
              "tensors": {
                "a.weight": {"dtype": "float32", "shape": [3, 4]},
                "a.bias": {
                  "dtype": "float32",
                  "shape": [
                    3
                  ]
                }
              }
            }
            """;
        const string compact = """{"format":"statedict-schema/1","tensors":{"a.weight":{"dtype":"float32","shape":[3,4]},"a.bias":{"shape":[3],"dtype":"float32"}}}""";

        var a = Parse(pretty);
        var b = Parse(compact.Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.Empty(a.Diagnostics);
        Assert.Empty(b.Diagnostics);
        Assert.Equal(
            a.Tensors.Select(t => (t.Key, t.DType, t.Shape)),
            b.Tensors.Select(t => (t.Key, t.DType, t.Shape)));
    }

    [Fact]
    public void Crlf_line_endings_give_the_same_line_and_column()
    {
        string json = Wrap("""    "t": {"dtype": "float33", "shape": [1]}""").Replace("\n", "\r\n", StringComparison.Ordinal);

        var diagnostic = Assert.Single(Parse(json).Diagnostics);

        AssertAt(diagnostic, json, "\"float33\"", 4, 20);
    }

    // SD0002: malformed JSON.

    [Fact]
    public void Malformed_json_is_SD0002_at_the_offending_character_with_line_and_column_in_the_message()
    {
        string json = "{\n  \"format\": \"statedict-schema/1\",\n  \"tensors\": {\n    \"a\": {\"dtype\": \"float32\", \"shape\": [1]},\n  }\n}\n";

        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0002", diagnostic.Id);
        AssertAt(diagnostic, json, "}", 5, 3);
        Assert.Equal(new[] { "m.schema.json", "expected a property name in double quotes (line 5, column 3)" }, diagnostic.Arguments);
        Assert.False(schema.IsSchema);
        Assert.Empty(schema.Tensors);
    }

    [Fact]
    public void Json_that_ends_early_is_SD0002_at_the_end_of_the_file()
    {
        const string json = "{\"format\": \"statedict-schema/1\",\n\"tensors\": {";

        var diagnostic = Assert.Single(Parse(json).Diagnostics);

        Assert.Equal("SD0002", diagnostic.Id);
        var location = diagnostic.Location!;
        Assert.Equal(new TextSpan(json.Length, 0), location.Span);
        Assert.Equal(new LinePosition(1, 12), location.LineSpan.Start);
        Assert.Equal("expected a property name in double quotes (line 2, column 13)", diagnostic.Arguments[1]);
    }

    [Fact]
    public void An_empty_file_is_SD0002()
    {
        var diagnostic = Assert.Single(Parse("").Diagnostics);

        Assert.Equal("SD0002", diagnostic.Id);
        Assert.Equal("unexpected end of file: expected a value (line 1, column 1)", diagnostic.Arguments[1]);
    }

    // SD0003: valid JSON that is not a schema.

    [Theory]
    [InlineData("[1, 2]", "[1, 2]")]
    [InlineData("{\"tensors\": {}}", "{\"tensors\": {}}")]
    [InlineData("{\"format\": \"statedict-schema/2\", \"tensors\": {}}", "\"statedict-schema/2\"")]
    [InlineData("{\"format\": 1, \"tensors\": {}}", "1")]
    public void Json_without_the_schema_format_is_SD0003_at_the_format_or_the_document(string json, string at)
    {
        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0003", diagnostic.Id);
        AssertAt(diagnostic, json, at, 1, json.IndexOf(at, StringComparison.Ordinal) + 1);
        Assert.Equal("expected \"format\": \"statedict-schema/1\"", diagnostic.Arguments[1]);
        Assert.False(schema.IsSchema);
    }

    [Theory]
    [InlineData("{\"format\": \"statedict-schema/1\"}", "{\"format\": \"statedict-schema/1\"}")]
    [InlineData("{\"format\": \"statedict-schema/1\", \"tensors\": [1]}", "[1]")]
    public void A_missing_or_non_object_tensors_member_is_SD0003(string json, string at)
    {
        var diagnostic = Assert.Single(Parse(json).Diagnostics);

        Assert.Equal("SD0003", diagnostic.Id);
        AssertAt(diagnostic, json, at, 1, json.IndexOf(at, StringComparison.Ordinal) + 1);
    }

    [Fact]
    public void A_tensor_entry_that_is_not_an_object_is_SD0003_at_the_entry()
    {
        string json = Wrap("    \"a\": [1, 2]");

        var diagnostic = Assert.Single(Parse(json).Diagnostics);

        Assert.Equal("SD0003", diagnostic.Id);
        AssertAt(diagnostic, json, "[1, 2]", 4, 10);
        Assert.Equal("the entry for 'a' must be an object {\"dtype\": ..., \"shape\": [...]}", diagnostic.Arguments[1]);
    }

    [Fact]
    public void A_file_that_cannot_be_read_is_SD0003_without_a_location()
    {
        var schema = SchemaParser.Parse(Path, null, default);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0003", diagnostic.Id);
        Assert.Null(diagnostic.Location);
    }

    // SD0004: unknown dtype.

    [Fact]
    public void An_unknown_dtype_is_SD0004_at_the_dtype_value()
    {
        string json = Wrap("""
                "ok": {"dtype": "float32", "shape": [1]},
                "fc.weight": {"dtype": "float33", "shape": [2, 3]}
            """);

        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0004", diagnostic.Id);
        AssertAt(diagnostic, json, "\"float33\"", 5, 28);
        Assert.Equal(new[] { "fc.weight", "float33" }, diagnostic.Arguments);
        Assert.Equal("ok", Assert.Single(schema.Tensors).Key);
    }

    [Fact]
    public void A_tensor_with_an_unknown_dtype_is_dropped_so_it_causes_no_follow_on_errors()
    {
        string json = Wrap("""
                "w": {"dtype": "float33", "shape": [1]},
                "w": {"dtype": "float32", "shape": [1]},
                "w.x": {"dtype": "float32", "shape": [1]}
            """);

        var schema = Parse(json);

        // The duplicate and tensor-and-module checks see only the valid entries.
        Assert.Equal(new[] { "SD0004", "SD0007" }, schema.Diagnostics.Select(d => d.Id));
        Assert.Equal("w.x", Assert.Single(schema.Tensors).Key);
    }

    [Fact]
    public void A_missing_dtype_is_SD0004_at_the_entry()
    {
        string json = Wrap("    \"w\": {\"shape\": [1]}");

        var diagnostic = Assert.Single(Parse(json).Diagnostics);

        Assert.Equal("SD0004", diagnostic.Id);
        AssertAt(diagnostic, json, "{\"shape\": [1]}", 4, 10);
        Assert.Equal(new[] { "w", "(missing)" }, diagnostic.Arguments);
    }

    // SD0005: bad shape.

    [Theory]
    [InlineData("{\"dtype\": \"float32\", \"shape\": [2, -1]}", "-1", "dimension 1 is not a non-negative integer")]
    [InlineData("{\"dtype\": \"float32\", \"shape\": [2.5]}", "2.5", "dimension 0 is not a non-negative integer")]
    [InlineData("{\"dtype\": \"float32\", \"shape\": [\"3\"]}", "\"3\"", "dimension 0 is not a non-negative integer")]
    [InlineData("{\"dtype\": \"float32\", \"shape\": [99999999999999999999]}", "99999999999999999999", "dimension 0 is not a non-negative integer")]
    [InlineData("{\"dtype\": \"float32\", \"shape\": 3}", "3", "expected an array of non-negative integers")]
    [InlineData("{\"dtype\": \"float32\"}", "{\"dtype\": \"float32\"}", "expected an array of non-negative integers")]
    public void An_invalid_shape_is_SD0005_at_the_offending_value(string entry, string at, string problem)
    {
        string json = Wrap("    \"w\": " + entry);

        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0005", diagnostic.Id);
        AssertAt(diagnostic, json, at, 4, 10 + entry.LastIndexOf(at, StringComparison.Ordinal));
        Assert.Equal(new[] { "w", problem }, diagnostic.Arguments);
        Assert.Empty(schema.Tensors);
    }

    // SD0006: duplicate key.

    [Fact]
    public void A_duplicate_key_is_SD0006_at_its_second_occurrence_and_the_first_is_kept()
    {
        string json = Wrap("""
                "w": {"dtype": "float32", "shape": [1]},
                "b": {"dtype": "float32", "shape": [1]},
                "w": {"dtype": "float16", "shape": [1]}
            """);

        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0006", diagnostic.Id);
        AssertAt(diagnostic, json, "\"w\"", 6, 5);
        Assert.Equal(new[] { "w" }, diagnostic.Arguments);
        Assert.Equal(new[] { ("w", "float32"), ("b", "float32") }, schema.Tensors.Select(t => (t.Key, t.DType)));
    }

    // SD0007: a key that is both a tensor and a module.

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tensor_that_is_also_a_module_prefix_is_SD0007_at_the_tensor_key(bool moduleFirst)
    {
        string tensor = "    \"encoder\": {\"dtype\": \"float32\", \"shape\": [1]}";
        string child = "    \"encoder.layer.weight\": {\"dtype\": \"float32\", \"shape\": [1]}";
        string json = Wrap(moduleFirst ? child + ",\n" + tensor : tensor + ",\n" + child);

        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0007", diagnostic.Id);
        AssertAt(diagnostic, json, "\"encoder\"", moduleFirst ? 5 : 4, 5);
        Assert.Equal(new[] { "encoder", "encoder.layer.weight" }, diagnostic.Arguments);
        Assert.Equal("encoder.layer.weight", Assert.Single(schema.Tensors).Key);
    }

    [Fact]
    public void A_tensor_prefixing_several_keys_is_reported_once()
    {
        string json = Wrap("""
                "a": {"dtype": "float32", "shape": [1]},
                "a.x": {"dtype": "float32", "shape": [1]},
                "a.y": {"dtype": "float32", "shape": [1]}
            """);

        var diagnostic = Assert.Single(Parse(json).Diagnostics);

        Assert.Equal(new[] { "a", "a.x" }, diagnostic.Arguments);
    }

    // SD0008: invalid key.

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData(".weight", "it has an empty segment")]
    [InlineData("fc.", "it has an empty segment")]
    [InlineData("fc..weight", "it has an empty segment")]
    public void A_key_with_an_empty_segment_is_SD0008_at_the_key(string key, string problem)
    {
        string json = Wrap($$"""    "{{key}}": {"dtype": "float32", "shape": [1]}""");

        var schema = Parse(json);

        var diagnostic = Assert.Single(schema.Diagnostics);
        Assert.Equal("SD0008", diagnostic.Id);
        AssertAt(diagnostic, json, "\"" + key + "\"", 4, 5);
        Assert.Equal(new[] { key, problem }, diagnostic.Arguments);
        Assert.Empty(schema.Tensors);
    }

    [Fact]
    public void Every_problem_in_a_file_is_reported_not_only_the_first()
    {
        string json = Wrap("""
                "a": {"dtype": "nope", "shape": [1]},
                "b": {"dtype": "float32", "shape": [-1]},
                "": {"dtype": "float32", "shape": [1]},
                "c": {"dtype": "float32", "shape": [1]}
            """);

        var schema = Parse(json);

        Assert.Equal(new[] { "SD0004", "SD0005", "SD0008" }, schema.Diagnostics.Select(d => d.Id));
        Assert.Equal("c", Assert.Single(schema.Tensors).Key);
    }

    [Fact]
    public void Parsing_the_same_text_twice_gives_equal_models()
    {
        string json = Wrap("""    "a.b": {"dtype": "float32", "shape": [1, 2]}""");

        var first = Parse(json);
        var second = Parse(json);

        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
    }
}
