using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>An AdditionalFiles item held in memory, as MSBuild would hand it to the generator.</summary>
public sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;

    public override string ToString() => Path;
}
