using Microsoft.CodeAnalysis;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>How the attribute's path finds its AdditionalFiles item, given build_property.projectdir.</summary>
public class SchemaLookupTests
{
    private const string Source = """
        using StateDict;
        [StateDictSchema("Schemas/m.schema.json")]
        internal partial class Net;
        """;

    private static GeneratorOutcome Run(string projectDirectory, string source, params AdditionalText[] texts) =>
        GeneratorRunner.Run(GeneratorRunner.Compile(source), GeneratorRunner.CreateDriver(texts, projectDirectory));

    private static string Generated(GeneratorOutcome outcome)
    {
        Assert.Empty(outcome.Diagnostics);
        return Assert.Single(outcome.Sources).Value;
    }

    [Fact]
    public void The_path_is_resolved_against_the_project_directory_before_any_file_name_match()
    {
        var outcome = Run("/proj/", Source,
            new InMemoryAdditionalText("/proj/Other/m.schema.json", TestSchemas.Keys("wrong")),
            new InMemoryAdditionalText("/proj/Schemas/m.schema.json", TestSchemas.Keys("right")));

        Assert.Contains("public global::StateDict.TensorView<float> Right { get; }", Generated(outcome), StringComparison.Ordinal);
    }

    [Fact]
    public void A_project_directory_without_a_trailing_slash_works_the_same()
    {
        var outcome = Run("/proj", Source,
            new InMemoryAdditionalText("/proj/Other/m.schema.json", TestSchemas.Keys("wrong")),
            new InMemoryAdditionalText("/proj/Schemas/m.schema.json", TestSchemas.Keys("right")));

        Assert.Contains("Right", Generated(outcome), StringComparison.Ordinal);
    }

    [Fact]
    public void Windows_paths_with_backslashes_and_another_letter_case_match()
    {
        var outcome = Run(@"C:\src\proj\", Source,
            new InMemoryAdditionalText(@"C:\src\proj\Other\m.schema.json", TestSchemas.Keys("wrong")),
            new InMemoryAdditionalText(@"c:\SRC\proj\schemas\M.schema.json", TestSchemas.Keys("right")));

        Assert.Contains("Right", Generated(outcome), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_project_directory_a_unique_file_name_still_matches()
    {
        var outcome = Run("", Source, new InMemoryAdditionalText("/anywhere/deep/m.schema.json", TestSchemas.Keys("w")));

        Assert.Contains("public global::StateDict.TensorView<float> W { get; }", Generated(outcome), StringComparison.Ordinal);
    }

    [Fact]
    public void An_absolute_attribute_path_is_used_as_it_is()
    {
        var outcome = Run("/proj/", """
            using StateDict;
            [StateDictSchema("/shared/schemas/m.schema.json")]
            internal partial class Net;
            """,
            new InMemoryAdditionalText("/proj/m.schema.json", TestSchemas.Keys("wrong")),
            new InMemoryAdditionalText("/shared/schemas/m.schema.json", TestSchemas.Keys("right")));

        Assert.Contains("Right", Generated(outcome), StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_path_finds_the_schema_its_StateDictCheckpoint_item_extracts()
    {
        var outcome = Run("/proj/", """
            using StateDict;
            [StateDictSchema("weights/model.pth")]
            internal partial class Net;
            """,
            new InMemoryAdditionalText("/proj/obj/statedict/model.pth.schema.json", TestSchemas.Keys("w")));

        Assert.Contains("model.pth.schema.json", Generated(outcome), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model/")]
    [InlineData("model")]
    [InlineData("samples/tiny/model/")]
    [InlineData("model\\\\")]
    public void A_folder_path_finds_the_schema_its_StateDictCheckpoint_item_names_after_the_folder(string folder)
    {
        var outcome = Run("/proj/", $$"""
            using StateDict;
            [StateDictSchema("{{folder}}")]
            internal partial class Net;
            """,
            new InMemoryAdditionalText("/proj/model/config.json", "{\"n_embd\": 64}"),
            new InMemoryAdditionalText("/proj/obj/Release/net10.0/statedict/model.schema.json", TestSchemas.Keys("w")));

        Assert.Contains("model.schema.json", Generated(outcome), StringComparison.Ordinal);
    }
}
