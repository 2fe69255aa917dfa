using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>
/// Global analyzer options as the SDK supplies them: <c>build_property.projectdir</c> is what the generator
/// resolves the attribute's path against.
/// </summary>
public sealed class TestOptionsProvider(ImmutableDictionary<string, string> globalOptions) : AnalyzerConfigOptionsProvider
{
    public static TestOptionsProvider ForProjectDirectory(string projectDirectory) =>
        new(ImmutableDictionary<string, string>.Empty.Add("build_property.projectdir", projectDirectory));

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(globalOptions);

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

    private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(ImmutableDictionary<string, string>.Empty);

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);

        public override IEnumerable<string> Keys => values.Keys;
    }
}
