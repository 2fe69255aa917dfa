using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace StateDict.Cli.Tests;

/// <summary>What one in-process run of the <c>statedict</c> command line produced.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs <see cref="CliApp.Run"/> in-process with captured output, and the assertions the CLI tests share.</summary>
internal static partial class CliRun
{
    public static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = CliApp.Run(args, stdout, stderr);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Exit 0, nothing on stderr.</summary>
    public static void Succeeded(CliResult result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Equal("", result.Stderr);
    }

    /// <summary>
    /// The exit code, nothing on stdout, and on stderr exactly one line starting "statedict: " with no stack trace
    /// and no exception type names.
    /// </summary>
    public static string FailedWith(int exitCode, CliResult result)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}, got {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Equal("", result.Stdout);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"stderr has {lines.Length} lines:\n{result.Stderr}");
        string line = lines[0].TrimEnd('\r');
        Assert.StartsWith("statedict: ", line);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.False(ExceptionTypeName().IsMatch(result.Stderr), $"stderr names an exception type: {result.Stderr}");
        return line;
    }

    /// <summary>The property names of a JSON object, in document order.</summary>
    public static string[] PropertyNames(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToArray();

    /// <summary>Two JSON values are the same value: integers stay integers, other numbers compare as doubles.</summary>
    public static void JsonEquivalent(JsonElement expected, JsonElement actual, string where)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{where}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Number when IsInteger(expected):
                Assert.True(IsInteger(actual), $"{where}: expected the integer {expected.GetRawText()}, got {actual.GetRawText()}");
                Assert.Equal(decimal.Parse(expected.GetRawText(), System.Globalization.CultureInfo.InvariantCulture),
                    decimal.Parse(actual.GetRawText(), System.Globalization.CultureInfo.InvariantCulture));
                break;
            case JsonValueKind.Number:
                Assert.Equal(expected.GetDouble(), actual.GetDouble());
                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), actual.GetString());
                break;
            case JsonValueKind.Array:
                Assert.Equal(expected.GetArrayLength(), actual.GetArrayLength());
                foreach (var (e, a, i) in expected.EnumerateArray().Zip(actual.EnumerateArray(), Enumerable.Range(0, int.MaxValue)))
                {
                    JsonEquivalent(e, a, $"{where}[{i}]");
                }
                break;
            case JsonValueKind.Object:
                Assert.Equal(PropertyNames(expected), PropertyNames(actual));
                foreach (var property in expected.EnumerateObject())
                {
                    JsonEquivalent(property.Value, actual.GetProperty(property.Name), $"{where}.{property.Name}");
                }
                break;
        }
    }

    private static bool IsInteger(JsonElement number) => number.GetRawText().IndexOfAny(['.', 'e', 'E']) < 0;

    [GeneratedRegex(@"\b\w*Exception\b")]
    private static partial Regex ExceptionTypeName();
}

/// <summary>A file in a fresh temporary directory, deleted with it.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"statedict-cli-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
