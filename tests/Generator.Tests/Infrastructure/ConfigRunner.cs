using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StateDict.Generator.Config;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>Runs <see cref="StateDictConfigGenerator"/> like <see cref="GeneratorRunner"/> runs the schema generator (same compilation, options, tracking).</summary>
public static class ConfigRunner
{
    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> additionalTexts, string projectDirectory = GeneratorRunner.ProjectDirectory) =>
        CSharpGeneratorDriver.Create(
            new[] { new StateDictConfigGenerator().AsSourceGenerator() },
            additionalTexts,
            GeneratorRunner.ParseOptions,
            TestOptionsProvider.ForProjectDirectory(projectDirectory),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>A config file at /proj/<paramref name="relativePath"/>.</summary>
    public static AdditionalText File(string relativePath, string json) => new InMemoryAdditionalText(GeneratorRunner.ProjectDirectory + relativePath, json);

    public static GeneratorOutcome Run(string source, params AdditionalText[] additionalTexts) =>
        GeneratorRunner.Run(GeneratorRunner.Compile(source), CreateDriver(additionalTexts));
}
