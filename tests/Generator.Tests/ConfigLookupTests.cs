using Microsoft.CodeAnalysis;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>How [StateDictConfig("…")] finds its AdditionalFiles item: against the project directory, else by the end of the path.</summary>
public class ConfigLookupTests
{
    private static string Generated(string attributePath, string projectDirectory, params AdditionalText[] files)
    {
        var outcome = GeneratorRunner.Run(GeneratorRunner.Compile($$"""
            using StateDict;
            [StateDictConfig("{{attributePath}}")]
            internal partial class C;
            """), ConfigRunner.CreateDriver(files, projectDirectory));
        Assert.Empty(outcome.Diagnostics);
        return Assert.Single(outcome.Sources).Value;
    }

    [Fact]
    public void The_path_against_the_project_directory_wins_over_other_files_ending_the_same()
    {
        string code = Generated("model/config.json", "/proj/",
            new InMemoryAdditionalText("/elsewhere/model/config.json", """{"wrong": 1}"""),
            new InMemoryAdditionalText("/proj/model/config.json", """{"right": 1}"""));

        Assert.Contains("Right", code, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_path_matches_the_one_file_whose_path_ends_with_it()
    {
        string code = Generated("model/config.json", "/proj/",
            new InMemoryAdditionalText("/repo/samples/tiny/model/config.json", """{"right": 1}"""),
            new InMemoryAdditionalText("/repo/samples/tiny/other/config.json", """{"wrong": 1}"""));

        Assert.Contains("Right", code, StringComparison.Ordinal);
    }

    [Fact]
    public void A_suffix_matches_whole_segments_only()
    {
        var outcome = GeneratorRunner.Run(GeneratorRunner.Compile("""
            using StateDict;
            [StateDictConfig("model/config.json")]
            internal partial class C;
            """), ConfigRunner.CreateDriver([new InMemoryAdditionalText("/repo/bigmodel/config.json", """{"a": 1}""")], "/proj/"));

        Assert.Equal("SD0060", Assert.Single(outcome.Diagnostics).Id);
    }

    [Fact]
    public void Windows_paths_and_another_letter_case_match()
    {
        string code = Generated("Model\\\\Config.json", @"C:\src\proj\", new InMemoryAdditionalText(@"c:\SRC\proj\model\config.json", """{"right": 1}"""));

        Assert.Contains("Right", code, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_classes_may_share_one_config_and_its_problems_are_reported_once()
    {
        var outcome = GeneratorRunner.Run(GeneratorRunner.Compile("""
            using StateDict;
            [StateDictConfig("config.json")]
            internal partial class A;
            [StateDictConfig("config.json")]
            internal partial class B;
            """), ConfigRunner.CreateDriver([ConfigRunner.File("config.json", """{"n": [1, "x"]}""")]));

        Assert.Equal("SD0064", Assert.Single(outcome.Diagnostics).Id);
        Assert.Equal(2, outcome.Sources.Count);
        Assert.Empty(outcome.CompilationProblems);
    }
}
