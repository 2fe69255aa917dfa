using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>
/// Microsoft.CodeAnalysis.Testing's generator test, set up for this repository: the project is /0/, schemas go in
/// as AdditionalFiles, references are the running net10 framework plus the runtime (no reference-assembly package
/// is downloaded), and only the generator's diagnostics are compared (ids, locations and messages).
/// </summary>
public sealed class StateDictGeneratorTest : CSharpSourceGeneratorTest<StateDictGenerator, DefaultVerifier>
{
    public const string ProjectDirectory = "/0/";

    public StateDictGeneratorTest(string source, params (string Path, string Text)[] additionalFiles)
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(References.Net10WithRuntime);
        TestState.Sources.Add(("/0/Test0.cs", source));
        foreach (var (path, text) in additionalFiles)
        {
            TestState.AdditionalFiles.Add((ProjectDirectory + path, text));
        }
        TestState.AnalyzerConfigFiles.Add(("/.globalconfig", $"is_global = true\nbuild_property.projectdir = {ProjectDirectory}\n"));
        // Generated text is covered by the baseline tests; compiler errors caused by the user's mistakes are not ours.
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        CompilerDiagnostics = CompilerDiagnostics.None;
    }

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);

    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new(descriptor);

    public static Task VerifyGeneratorAsync(string source, (string Path, string Text)[] additionalFiles, params DiagnosticResult[] expected)
    {
        var test = new StateDictGeneratorTest(source, additionalFiles);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }
}
