using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>What one generator run produced: the run result, the generator's diagnostics and the updated compilation.</summary>
public sealed record GeneratorOutcome(GeneratorDriver Driver, GeneratorRunResult Result, ImmutableArray<Diagnostic> Diagnostics, Compilation Output)
{
    /// <summary>Generated text by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources =>
        Result.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);

    /// <summary>Warnings and errors of the compilation with the generated code added.</summary>
    public IReadOnlyList<Diagnostic> CompilationProblems =>
        Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();

    /// <summary>The generated text, after asserting the run was clean: no generator diagnostic, and the output compiles with no warning or error.</summary>
    public IReadOnlyDictionary<string, string> CleanSources()
    {
        Assert.Empty(Diagnostics);
        Assert.Empty(CompilationProblems);
        return Sources;
    }
}

/// <summary>
/// Runs <see cref="StateDictGenerator"/> the way the compiler does, with a raw <see cref="CSharpGeneratorDriver"/>
/// that tracks incremental steps (the testing package's incremental APIs are absent in 1.1.4).
/// </summary>
public static class GeneratorRunner
{
    /// <summary>The project directory every test pretends to build in; schemas are put under it.</summary>
    public const string ProjectDirectory = "/proj/";

    /// <summary>C# 13 or later (partial properties), with XML doc comments checked so bad crefs surface.</summary>
    public static readonly CSharpParseOptions ParseOptions =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>A library with nullable reference types on and every warning wave enabled.</summary>
    public static readonly CSharpCompilationOptions CompilationOptions =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999);

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    /// <summary>A compilation of <paramref name="sources"/> (files /proj/Source0.cs, Source1.cs, …) against net10 and the runtime.</summary>
    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create("UserProject",
            sources.Select((s, i) => Parse(s, $"{ProjectDirectory}Source{i}.cs")),
            References.Net10WithRuntime,
            CompilationOptions);

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> additionalTexts, string projectDirectory = ProjectDirectory) =>
        CSharpGeneratorDriver.Create(
            new[] { new StateDictGenerator().AsSourceGenerator() },
            additionalTexts,
            ParseOptions,
            TestOptionsProvider.ForProjectDirectory(projectDirectory),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>A schema file at /proj/<paramref name="relativePath"/>.</summary>
    public static AdditionalText Schema(string relativePath, string json) => new InMemoryAdditionalText(ProjectDirectory + relativePath, json);

    public static GeneratorOutcome Run(string source, params AdditionalText[] additionalTexts) =>
        Run(Compile(source), CreateDriver(additionalTexts));

    public static GeneratorOutcome Run(Compilation compilation, GeneratorDriver driver)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        return new GeneratorOutcome(driver, result, result.Diagnostics, output);
    }
}
