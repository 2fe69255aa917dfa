using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>
/// What a user's project compiles against: the net10 shared framework (taken from the host's trusted platform
/// assemblies, since no reference-assembly package is available here) plus the StateDict runtime and the
/// packages it depends on. Built once: metadata references are immutable and shared by every compilation.
/// </summary>
public static class References
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> All = new(Create);

    public static ImmutableArray<MetadataReference> Net10WithRuntime => All.Value;

    private static ImmutableArray<MetadataReference> Create()
    {
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var byName = trusted.GroupBy(p => Path.GetFileNameWithoutExtension(p), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);

        var paths = new List<string>(trusted.Where(p => string.Equals(Path.GetDirectoryName(p), frameworkDirectory, StringComparison.Ordinal)));
        var runtime = typeof(StateDict.Checkpoint).Assembly;
        paths.Add(runtime.Location);
        foreach (AssemblyName dependency in runtime.GetReferencedAssemblies())
        {
            if (dependency.Name is { } name && byName.TryGetValue(name, out var path))
            {
                paths.Add(path);
            }
        }
        return paths
            .Distinct(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }
}
