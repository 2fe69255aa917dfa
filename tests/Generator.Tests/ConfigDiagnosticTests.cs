using Microsoft.CodeAnalysis;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>The config generator's diagnostics: id, place (in the C# file or in the JSON file) and message.</summary>
public class ConfigDiagnosticTests
{
    private const string TinySource = """
        using StateDict;
        [StateDictConfig("model/config.json")]
        internal partial class TinyConfig;
        """;

    private static Diagnostic Single(GeneratorOutcome outcome, DiagnosticDescriptor descriptor)
    {
        var diagnostic = Assert.Single(outcome.Diagnostics);
        Assert.Equal(descriptor.Id, diagnostic.Id);
        return diagnostic;
    }

    private static string Where(Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetLineSpan();
        return $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})";
    }

    [Fact]
    public void A_config_not_in_AdditionalFiles_is_SD0060_on_the_attribute_argument()
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("other/settings.json", "{}"));

        var diagnostic = Single(outcome, Descriptors.ConfigNotFound);
        Assert.Equal("/proj/Source0.cs(2,18)", Where(diagnostic));
        Assert.Equal("Config file 'model/config.json' is not in AdditionalFiles; add <AdditionalFiles Include=\"model/config.json\" /> to the project", diagnostic.GetMessage());
        Assert.Empty(outcome.Sources);
    }

    [Fact]
    public void A_path_ending_two_AdditionalFiles_is_SD0063_listing_both()
    {
        var outcome = ConfigRunner.Run("""
            using StateDict;
            [StateDictConfig("config.json")]
            internal partial class TinyConfig;
            """,
            new InMemoryAdditionalText("/models/a/config.json", TestConfigs.TinyGpt),
            new InMemoryAdditionalText("/models/b/config.json", TestConfigs.TinyGpt));

        var diagnostic = Single(outcome, Descriptors.ConfigAmbiguous);
        Assert.Equal("Config path 'config.json' matches several AdditionalFiles: /models/a/config.json, /models/b/config.json", diagnostic.GetMessage());
    }

    [Fact]
    public void Malformed_JSON_is_SD0061_at_its_line_and_column_in_the_config()
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("model/config.json", "{\n  \"n_embd\": 64,\n  \"n_head\" 4\n}"));

        var diagnostic = Single(outcome, Descriptors.MalformedConfig);
        Assert.Equal("/proj/model/config.json(3,12)", Where(diagnostic));
        Assert.Equal("Config 'config.json' is not valid JSON: expected ':' but found '4' (line 3, column 12)", diagnostic.GetMessage());
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("{}")]
    [InlineData("{\"0\": \"a\"}")]
    public void A_top_level_that_is_not_an_object_of_named_fields_is_SD0062(string json)
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("model/config.json", json));

        var diagnostic = Single(outcome, Descriptors.ConfigNotAnObject);
        Assert.Contains("the top level must be an object with named fields", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_key_is_SD0062_on_its_second_occurrence()
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("model/config.json", "{\"a\": {\"n\": 1, \"n\": 2}}"));

        var diagnostic = Single(outcome, Descriptors.ConfigNotAnObject);
        Assert.Equal("/proj/model/config.json(1,16)", Where(diagnostic));
        Assert.Equal("Config 'config.json': the key 'a.n' appears more than once", diagnostic.GetMessage());
    }

    [Theory]
    [InlineData("internal class TinyConfig;", "is not partial")]
    [InlineData("internal partial struct TinyConfig;", "is a struct; it must be a class")]
    [InlineData("internal static partial class TinyConfig;", "is static")]
    [InlineData("internal abstract partial class TinyConfig;", "is abstract")]
    [InlineData("internal partial class TinyConfig<T>;", "is generic")]
    public void A_class_the_generator_cannot_complete_is_SD0066_on_its_name(string declaration, string problem)
    {
        var outcome = ConfigRunner.Run("using StateDict;\n[StateDictConfig(\"model/config.json\")]\n" + declaration,
            ConfigRunner.File("model/config.json", TestConfigs.TinyGpt));

        var diagnostic = Single(outcome, Descriptors.BadConfigClass);
        Assert.Equal($"'TinyConfig' has [StateDictConfig] but {problem}", diagnostic.GetMessage());
        Assert.Equal(3, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
        Assert.Empty(outcome.Sources);
    }

    [Fact]
    public void A_class_nested_in_a_type_that_is_not_partial_is_SD0012()
    {
        var outcome = ConfigRunner.Run("""
            using StateDict;
            internal class Outer
            {
                [StateDictConfig("model/config.json")]
                internal partial class TinyConfig;
            }
            """, ConfigRunner.File("model/config.json", TestConfigs.TinyGpt));

        Assert.Equal("'TinyConfig' is nested in 'Outer', which is not partial", Single(outcome, Descriptors.ContainerNotPartial).GetMessage());
    }

    [Fact]
    public void Keys_that_collide_after_PascalCasing_keep_file_order_and_the_later_is_renamed_with_SD0065()
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("model/config.json", """{"n_embd": 64, "nEmbd": 32, "load": 1, "to_string": "x"}"""));

        var warnings = outcome.Diagnostics.Select(d => (d.Id, d.GetMessage())).ToArray();
        Assert.Equal(
        [
            ("SD0065", "Config field 'nEmbd' became property 'NEmbd_2' instead of 'NEmbd' to avoid a collision"),
            ("SD0065", "Config field 'load' became property 'Load_2' instead of 'Load' to avoid a collision"),
            ("SD0065", "Config field 'to_string' became property 'ToString_2' instead of 'ToString' to avoid a collision"),
        ], warnings);
        Assert.Equal("/proj/model/config.json(1,16)", Where(outcome.Diagnostics[0]));
        string code = Assert.Single(outcome.Sources).Value;
        Assert.Contains("NEmbd = json.Field(\"n_embd\").AsInt32();", code, StringComparison.Ordinal);
        Assert.Contains("NEmbd_2 = json.Field(\"nEmbd\").AsInt32();", code, StringComparison.Ordinal);
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void A_member_the_user_declared_is_reserved_too()
    {
        var outcome = ConfigRunner.Run("""
            using StateDict;
            [StateDictConfig("model/config.json")]
            internal partial class TinyConfig
            {
                public int HeadSize => NEmbd / NHead;
            }
            """, ConfigRunner.File("model/config.json", """{"n_embd": 64, "n_head": 4, "head_size": 16}"""));

        Assert.Equal("Config field 'head_size' became property 'HeadSize_2' instead of 'HeadSize' to avoid a collision", Single(outcome, Descriptors.ConfigRenamed).GetMessage());
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void Keys_that_are_not_identifiers_become_valid_names()
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("model/config.json", """{"7b": 1, "model-type": "x", "@id": "y", "": 2, "class": true, "TinyConfig": 3}"""));

        string code = Assert.Single(outcome.Sources).Value;
        foreach (string line in new[] { "_7b = json.Field(\"7b\")", "ModelType = json.Field(\"model-type\")", "Id = json.Field(\"@id\")", "Member = json.Field(\"\")", "Class = json.Field(\"class\")", "TinyConfig_2 = json.Field(\"TinyConfig\")" })
        {
            Assert.Contains(line, code, StringComparison.Ordinal);
        }
        Assert.Equal(["SD0065"], outcome.Diagnostics.Select(d => d.Id));
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void Array_items_of_different_kinds_are_SD0064_and_read_as_JsonElement()
    {
        var outcome = ConfigRunner.Run(TinySource, ConfigRunner.File("model/config.json", """{"stops": [1, "\n"], "layers": [{"n": 1}, {"n": "x"}]}"""));

        Assert.Equal(
        [
            "Config field 'stops' mixes int and string; it is read as System.Text.Json.JsonElement",
            "Config field 'layers' mixes int and string; it is read as System.Text.Json.JsonElement",
        ], outcome.Diagnostics.Select(d => d.GetMessage()));
        Assert.All(outcome.Diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        string code = Assert.Single(outcome.Sources).Value;
        Assert.Contains("public global::System.Collections.Generic.IReadOnlyList<global::System.Text.Json.JsonElement> Stops { get; }", code, StringComparison.Ordinal);
        Assert.Contains("public global::System.Text.Json.JsonElement N { get; }", code, StringComparison.Ordinal);
        Assert.Empty(outcome.CompilationProblems);
    }
}
