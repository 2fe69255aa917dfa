using System.Reflection;
using Microsoft.CodeAnalysis;
using StateDict.Generator.Model;
using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>
/// The pipeline caches what it should (GENERATOR_NOTES §3): a raw driver with step tracking, run, edited, run again,
/// and each tracked step's outputs checked for Cached / Unchanged / Modified.
/// </summary>
public class IncrementalTests
{
    private const string Models = """
        using StateDict;

        namespace App;

        [StateDictSchema("a.schema.json")]
        internal partial class A;

        [StateDictSchema("b.schema.json")]
        internal partial class B;

        [StateDictSchema("b.schema.json")]
        internal partial class Shaped
        {
            [Module("enc")] public partial Linear Encoder { get; }
            [TensorKey("head.weight", Fallback = "dec.weight")] public partial TensorView<double> Head { get; }
        }

        [StateDictModule]
        internal partial class Linear
        {
            [TensorKey("weight")] public partial TensorView<double> Weight { get; }
        }
        """;

    private static readonly AdditionalText SchemaA = GeneratorRunner.Schema("a.schema.json", TestSchemas.Of(
        ("layer.0.conv.weight", "float32", [8, 3, 3, 3]), ("layer.1.conv.weight", "float32", [8, 8, 3, 3]), ("fc.weight", "float32", [2, 8])));

    private static readonly AdditionalText SchemaB = GeneratorRunner.Schema("b.schema.json", TestSchemas.Keys("enc.weight", "dec.weight"));

    private static readonly string[] OurSteps = typeof(TrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun(string source = Models, params AdditionalText[] texts)
    {
        var compilation = GeneratorRunner.Compile(source);
        var driver = GeneratorRunner.CreateDriver(texts.Length == 0 ? [SchemaA, SchemaB] : texts).RunGenerators(compilation);
        return (driver, compilation);
    }

    private static GeneratorRunResult Result(GeneratorDriver driver)
    {
        var result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        return result;
    }

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorDriver driver, string step) =>
        Result(driver).TrackedSteps.TryGetValue(step, out var steps) ? steps.SelectMany(s => s.Outputs) : [];

    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) =>
        Outputs(driver, step).Select(o => o.Reason).ToArray();

    private static IncrementalStepRunReason SpecReason(GeneratorDriver driver, string className) =>
        Assert.Single(Outputs(driver, TrackingNames.Specs), o => ((GenerationSpec)o.Value).ClassName == className).Reason;

    /// <summary>Where an equal model absorbs an edit: the Resolved step re-ran and found the same value.</summary>
    private static IncrementalStepRunReason ResolvedReason(GeneratorDriver driver, string className) =>
        Assert.Single(Outputs(driver, TrackingNames.Resolved), o => ((Resolution)o.Value).Spec?.ClassName == className).Reason;

    private static IncrementalStepRunReason[] SourceOutputReasons(GeneratorDriver driver) =>
        Result(driver).TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    private static string Source(GeneratorDriver driver, string hint) =>
        Result(driver).GeneratedSources.Single(s => s.HintName == hint).SourceText.ToString();

    private static void AssertAll(IncrementalStepRunReason[] reasons, params IncrementalStepRunReason[] allowed)
    {
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.Contains(r, allowed));
    }

    [Fact]
    public void The_first_run_generates_one_file_per_class()
    {
        var (driver, _) = FirstRun();

        Assert.Equal(new[] { "App.A.g.cs", "App.B.g.cs", "App.Linear.Module.g.cs", "App.Shaped.g.cs" }, Result(driver).GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.New);
    }

    [Fact]
    public void Rerunning_the_same_compilation_caches_every_step_and_output()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation);

        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
        foreach (string step in OurSteps)
        {
            AssertAll(Reasons(driver, step), IncrementalStepRunReason.Cached);
        }
    }

    [Fact]
    public void Rerunning_a_clone_of_the_compilation_caches_every_output()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation.Clone());

        // A new Compilation object makes ForAttributeWithMetadataName re-run its transform; the equal TargetSpec stops it there.
        AssertAll(Reasons(driver, TrackingNames.Targets), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(Reasons(driver, TrackingNames.ModuleTargets), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        foreach (string step in OurSteps.Except([TrackingNames.Targets, TrackingNames.ModuleTargets]))
        {
            AssertAll(Reasons(driver, step), IncrementalStepRunReason.Cached);
        }
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void An_unrelated_CSharp_edit_leaves_specs_unchanged_and_source_outputs_cached()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(GeneratorRunner.Parse("class Unrelated { }", "/proj/Unrelated.cs")));

        AssertAll(Reasons(driver, TrackingNames.Targets), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void Editing_the_body_of_another_class_in_the_same_file_leaves_the_source_cached()
    {
        var (driver, compilation) = FirstRun(Models + "\nclass Helper { int X => 1; }\n");
        var oldTree = compilation.SyntaxTrees.Single();

        var newTree = oldTree.WithChangedText(oldTree.GetText().Replace(oldTree.GetText().ToString().IndexOf("1;", StringComparison.Ordinal), 1, "2"));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(oldTree, newTree));

        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void A_comment_that_moves_the_class_changes_its_target_but_not_its_spec()
    {
        var (driver, compilation) = FirstRun();
        var oldTree = compilation.SyntaxTrees.Single();

        var newTree = oldTree.WithChangedText(oldTree.GetText().Replace(0, 0, "// A comment that moves every location down a line.\n"));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(oldTree, newTree));

        AssertAll(Reasons(driver, TrackingNames.Targets), IncrementalStepRunReason.Modified);
        Assert.Equal(IncrementalStepRunReason.Unchanged, ResolvedReason(driver, "A"));
        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.Cached);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void A_whitespace_only_schema_edit_reparses_the_schema_but_leaves_the_spec_and_source_unchanged()
    {
        var (driver, compilation) = FirstRun();
        string before = Source(driver, "App.A.g.cs");

        driver = driver.ReplaceAdditionalText(SchemaA, Reformat(SchemaA)).RunGenerators(compilation);

        // Only A's schema is re-parsed (its tensors' key locations moved); resolving gives an equal model, so the
        // Specs step is not even re-run (Cached) and neither is the emitter.
        Assert.Equal(new[] { IncrementalStepRunReason.Modified, IncrementalStepRunReason.Cached }, Reasons(driver, TrackingNames.Schemas));
        Assert.Equal(IncrementalStepRunReason.Unchanged, ResolvedReason(driver, "A"));
        Assert.Equal(IncrementalStepRunReason.Unchanged, ResolvedReason(driver, "B"));
        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
        Assert.Equal(before, Source(driver, "App.A.g.cs"));
    }

    [Fact]
    public void A_rename_warning_follows_a_moved_key_while_the_source_stays_cached()
    {
        var schema = GeneratorRunner.Schema("a.schema.json", TestSchemas.Keys("fc_1.weight", "fc1.weight"));
        var (driver, compilation) = FirstRun(Models, schema, SchemaB);
        int lineBefore = Result(driver).Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line;

        driver = driver.ReplaceAdditionalText(schema, Reformat(schema)).RunGenerators(compilation);

        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Diagnostics));
        Assert.Equal(lineBefore + 1, Result(driver).Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line);
        Assert.Equal("SD0020", Result(driver).Diagnostics.Single().Id);
    }

    [Fact]
    public void Editing_a_key_of_one_schema_modifies_only_that_class()
    {
        var (driver, compilation) = FirstRun();
        string sourceB = Source(driver, "App.B.g.cs");
        var edited = GeneratorRunner.Schema("a.schema.json", SchemaA.GetText()!.ToString().Replace("fc.weight", "head.weight", StringComparison.Ordinal));

        driver = driver.ReplaceAdditionalText(SchemaA, edited).RunGenerators(compilation);

        Assert.Equal(new[] { IncrementalStepRunReason.Modified, IncrementalStepRunReason.Cached }, Reasons(driver, TrackingNames.Schemas));
        Assert.Equal(IncrementalStepRunReason.Modified, SpecReason(driver, "A"));
        Assert.Contains(SpecReason(driver, "B"), new[] { IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached });
        Assert.Contains("Head", Source(driver, "App.A.g.cs"), StringComparison.Ordinal);
        Assert.Equal(sourceB, Source(driver, "App.B.g.cs"));
    }

    [Fact]
    public void Editing_a_schema_no_class_uses_changes_no_spec()
    {
        var unused = GeneratorRunner.Schema("unused.schema.json", TestSchemas.Keys("x"));
        var (driver, compilation) = FirstRun(Models, SchemaA, SchemaB, unused);

        driver = driver.ReplaceAdditionalText(unused, GeneratorRunner.Schema("unused.schema.json", TestSchemas.Keys("y"))).RunGenerators(compilation);

        AssertAll(Reasons(driver, TrackingNames.Specs), IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached);
        AssertAll(SourceOutputReasons(driver), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void Changing_the_attribute_argument_modifies_the_target_and_its_spec()
    {
        var (driver, compilation) = FirstRun();
        var oldTree = compilation.SyntaxTrees.Single();
        string text = oldTree.GetText().ToString();

        var newTree = oldTree.WithChangedText(oldTree.GetText().Replace(text.IndexOf("\"a.schema.json\"", StringComparison.Ordinal), "\"a.schema.json\"".Length, "\"b.schema.json\""));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(oldTree, newTree));

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Targets));
        Assert.Equal(IncrementalStepRunReason.Modified, SpecReason(driver, "A"));
        Assert.Contains("Enc", Source(driver, "App.A.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_a_class_adds_its_output_and_leaves_the_others_cached()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(GeneratorRunner.Parse("""
            namespace App;
            [StateDict.StateDictSchema("b.schema.json")]
            internal partial class C;
            """, "/proj/C.cs")));

        Assert.Equal(IncrementalStepRunReason.New, SpecReason(driver, "C"));
        Assert.Contains(SpecReason(driver, "A"), new[] { IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached });
        Assert.Equal(5, Result(driver).GeneratedSources.Length);
    }

    [Fact]
    public void Editing_a_module_class_in_another_file_rechecks_the_class_that_uses_it()
    {
        const string user = """
            using StateDict;
            namespace App;
            [StateDictSchema("b.schema.json")]
            internal partial class User
            {
                [Module("enc")] public partial Lin Enc { get; }
            }
            """;
        const string module = """
            using StateDict;
            namespace App;
            [StateDictModule]
            internal partial class Lin
            {
                [TensorKey("weight")] public partial TensorView<float> W { get; }
            }
            """;
        var compilation = GeneratorRunner.Compile(user, module);
        var driver = GeneratorRunner.CreateDriver([SchemaB]).RunGenerators(compilation);
        Assert.Empty(Result(driver).Diagnostics);
        var oldTree = compilation.SyntaxTrees.Last();

        var newTree = oldTree.WithChangedText(oldTree.GetText().Replace(oldTree.GetText().ToString().IndexOf("\"weight\"", StringComparison.Ordinal), 8, "\"wieght\""));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(oldTree, newTree));

        Assert.Equal("SD0013", Assert.Single(Result(driver).Diagnostics).Id);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Targets));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.ModuleSpecs));
    }

    [Fact]
    public void No_tracked_step_holds_symbols_syntax_compilations_source_text_or_locations()
    {
        var selective = """
            using StateDict;
            namespace App;
            [StateDictSchema("a.schema.json")]
            internal partial class S
            {
                [TensorKey("fc.weight")] public partial TensorView<float> W { get; }
                [TensorKey("fc.wieght")] public partial TensorView<float> Typo { get; }
            }
            """;
        var (driver, compilation) = FirstRun(Models, SchemaA, SchemaB, GeneratorRunner.Schema("broken.json", "{"));
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(GeneratorRunner.Parse(selective, "/proj/S.cs")));

        var result = Result(driver);
        foreach (string name in OurSteps)
        {
            var steps = result.TrackedSteps[name];
            Assert.NotEmpty(steps);
            for (int i = 0; i < steps.Length; i++)
            {
                for (int j = 0; j < steps[i].Outputs.Length; j++)
                {
                    ObjectGraph.AssertHoldsNoRoslynObjects(steps[i].Outputs[j].Value, $"{name}[{i}].Outputs[{j}]");
                }
            }
        }
    }

    [Fact]
    public void Two_fresh_runs_give_equal_models_with_equal_hashes()
    {
        GeneratorRunResult Fresh() =>
            Result(GeneratorRunner.CreateDriver([SchemaA, SchemaB, GeneratorRunner.Schema("broken.json", "[1,")]).RunGenerators(GeneratorRunner.Compile(Models)));

        var first = Fresh();
        var second = Fresh();

        foreach (string name in OurSteps)
        {
            var a = first.TrackedSteps[name].SelectMany(s => s.Outputs).Select(o => o.Value).ToList();
            var b = second.TrackedSteps[name].SelectMany(s => s.Outputs).Select(o => o.Value).ToList();
            Assert.Equal(a.Count, b.Count);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.NotSame(a[i], b[i]);
                Assert.Equal(a[i], b[i]);
                Assert.Equal(a[i].GetHashCode(), b[i].GetHashCode());
            }
        }
    }

    [Fact]
    public void Every_tracking_name_is_used_by_the_pipeline()
    {
        var (driver, _) = FirstRun();

        Assert.All(OurSteps, name => Assert.True(Result(driver).TrackedSteps.ContainsKey(name), $"no step is named {name}"));
    }

    /// <summary>The same JSON with different layout: a blank line before the tensors and two-space-indented entries.</summary>
    private static AdditionalText Reformat(AdditionalText text) =>
        new InMemoryAdditionalText(text.Path, text.GetText()!.ToString()
            .Replace("  \"tensors\": {\n", "\n  \"tensors\": {\n", StringComparison.Ordinal)
            .Replace("\"dtype\": ", "\"dtype\":  ", StringComparison.Ordinal));
}
