using System.Runtime.CompilerServices;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>
/// Golden files for generated code, one per hint name: <c>Baselines/{Test}/{HintName}.txt</c> (the dotnet/runtime
/// System.Text.Json generator's layout). Run with <c>UPDATE_BASELINES=1</c> to rewrite them from the current output.
/// </summary>
public static class Baselines
{
    public static bool Updating => Environment.GetEnvironmentVariable("UPDATE_BASELINES") == "1";

    public static void Verify(IReadOnlyDictionary<string, string> sources, [CallerMemberName] string test = "", [CallerFilePath] string callerFile = "")
    {
        Assert.NotEmpty(sources);
        if (Updating)
        {
            // Written into the source tree, next to the tests; the build copies them to the output.
            string directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Baselines", test);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            Directory.CreateDirectory(directory);
            foreach (var (hint, text) in sources)
            {
                File.WriteAllText(Path.Combine(directory, hint + ".txt"), Normalize(text));
            }
            return;
        }

        string expectedDirectory = Path.Combine(AppContext.BaseDirectory, "Baselines", test);
        Assert.True(Directory.Exists(expectedDirectory), $"No baselines for {test}; run the tests with UPDATE_BASELINES=1 to create them.");
        var expectedHints = Directory.GetFiles(expectedDirectory, "*.txt").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal);
        Assert.Equal(expectedHints, sources.Keys.Order(StringComparer.Ordinal));
        foreach (var (hint, text) in sources)
        {
            string expected = Normalize(File.ReadAllText(Path.Combine(expectedDirectory, hint + ".txt")));
            Assert.True(expected == Normalize(text), $"{test}/{hint} differs from its baseline (UPDATE_BASELINES=1 rewrites it):\n{FirstDifference(expected, Normalize(text))}");
        }
    }

    /// <summary>Checkouts may turn LF into CRLF; the generator writes LF.</summary>
    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "<end>", al = i < a.Length ? a[i] : "<end>";
            if (el != al)
            {
                return $"line {i + 1}\n  expected: {el}\n  actual:   {al}";
            }
        }
        return "(no difference)";
    }
}
