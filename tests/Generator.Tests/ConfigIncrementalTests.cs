using System.Reflection;
using Microsoft.CodeAnalysis;
using StateDict.Generator.Config;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>The config generator's pipeline caches what it should (GENERATOR_NOTES §3), step by step.</summary>
public class ConfigIncrementalTests
{
    private const string Source = """
        using StateDict;

        namespace App;

        [StateDictConfig("model/config.json")]
        internal partial class TinyConfig;

        [StateDictConfig("rich/config.json")]
        internal partial class RichConfig;
        """;

    private static readonly AdditionalText Tiny = ConfigRunner.File("model/config.json", TestConfigs.TinyGpt);
    private static readonly AdditionalText Rich = ConfigRunner.File("rich/config.json", TestConfigs.Rich);
    private static readonly AdditionalText Schema = GeneratorRunner.Schema("model.schema.json", TestSchemas.Keys("w"));

    private static readonly string[] Steps = typeof(ConfigTrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun()
    {
        var compilation = GeneratorRunner.Compile(Source);
        return (ConfigRunner.CreateDriver([Tiny, Rich, Schema]).RunGenerators(compilation), compilation);
    }

    private static GeneratorRunResult Result(GeneratorDriver driver) => driver.GetRunResult().Results.Single();

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorDriver driver, string step) =>
        Result(driver).TrackedSteps.TryGetValue(step, out var steps) ? steps.SelectMany(s => s.Outputs) : [];

    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) => Outputs(driver, step).Select(o => o.Reason).ToArray();

    private static IncrementalStepRunReason SpecReason(GeneratorDriver driver, string className) =>
        Assert.Single(Outputs(driver, ConfigTrackingNames.ConfigSpecs), o => ((ConfigSpec?)o.Value)?.Root.Name == className).Reason;

    private static IncrementalStepRunReason[] SourceOutputReasons(GeneratorDriver driver) =>
        Result(driver).TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    private static void AssertAll(IncrementalStepRunReason[] reasons, params IncrementalStepRunReason[] allowed)
    {
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.Contains(r, allowed));
    }

    [Fact]
    public void The_first_run_parses_only_the_configs_named_and_generates_one_file_per_class()
    {
        var (driver, _) = FirstRun();

        Assert.Equal(["App.RichConfig.Config.g.cs", "App.TinyConfig.Config.g.cs"], Result(driver).GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Equal(["/proj/model/config.json", "/proj/rich/config.json"], Outputs(driver, ConfigTrackingNames.ConfigFiles).Select(o => ((ConfigFile)o.Value).Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rerunning_the_same_compilation_caches_every_step_and_output()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation);

        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
        foreach (string step in Steps)
        {
            AssertAll(Reasons(driver, step), IncrementalStepRunReason.Cached);
        }
    }

    [Fact]
    public void An_unrelated_edit_leaves_the_outputs_cached()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(GeneratorRunner.Parse("internal class Unrelated { }", "/proj/Unrelated.cs")));

        AssertAll(Reasons(driver, ConfigTrackingNames.ConfigTargets), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(Reasons(driver, ConfigTrackingNames.ConfigFiles), IncrementalStepRunReason.Cached);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void A_whitespace_edit_of_a_config_reparses_it_and_leaves_its_spec_unchanged()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.ReplaceAdditionalText(Tiny, ConfigRunner.File("model/config.json", TestConfigs.TinyGpt.Replace("\n", "\n\n", StringComparison.Ordinal))).RunGenerators(compilation);

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, ConfigTrackingNames.ConfigFiles));
        // The resolution re-ran and found the same value (its key locations are not part of it), so nothing is re-emitted.
        Assert.Contains(IncrementalStepRunReason.Unchanged, Reasons(driver, ConfigTrackingNames.ConfigResolved));
        AssertAll(Reasons(driver, ConfigTrackingNames.ConfigSpecs), IncrementalStepRunReason.Cached);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void A_new_field_in_one_config_regenerates_only_its_class()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.ReplaceAdditionalText(Tiny, ConfigRunner.File("model/config.json", TestConfigs.TinyGpt.Replace("\"n_layer\": 2,", "\"n_layer\": 2, \"dropout\": 0.1,", StringComparison.Ordinal))).RunGenerators(compilation);

        Assert.Equal(IncrementalStepRunReason.Modified, SpecReason(driver, "TinyConfig"));
        Assert.Equal(IncrementalStepRunReason.Cached, SpecReason(driver, "RichConfig"));
        Assert.Contains("public double Dropout { get; }", Result(driver).GeneratedSources.Single(s => s.HintName == "App.TinyConfig.Config.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_a_json_file_no_class_names_parses_nothing()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.ReplaceAdditionalText(Schema, GeneratorRunner.Schema("model.schema.json", TestSchemas.Keys("w", "v"))).RunGenerators(compilation);

        AssertAll(Reasons(driver, ConfigTrackingNames.ConfigFiles), IncrementalStepRunReason.Cached);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void Step_outputs_hold_no_symbols_syntax_or_compilations()
    {
        var (driver, _) = FirstRun();

        foreach (string step in Steps)
        {
            foreach (var (value, _) in Outputs(driver, step))
            {
                ObjectGraph.AssertHoldsNoRoslynObjects(value, step);
            }
        }
    }
}
