using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace StateDict.Package.Tests;

/// <summary>
/// The runtime under Native AOT, as a user who publishes with <c>PublishAot</c> meets it: a tiny app referencing the
/// runtime opens real PyTorch and safetensors fixtures, reads every tensor and prints SHA-256s. The publish must raise
/// no trim or AOT warning (IL2xxx, IL3xxx) and the hashes must be the ones PyTorch wrote into expected.json.
/// The only Native AOT publish of the test suite (it takes minutes on a small machine): it needs clang and zlib's headers.
/// </summary>
public class NativeAotTests
{
    private static readonly string[] Fixtures = ["mlp.pth", "legacy_mlp.pth", "safetensors/mlp.safetensors"];

    [Fact]
    public void Native_aot_app_reads_every_tensor_with_pytorchs_hashes_and_no_trim_or_aot_warnings()
    {
        string repo = DotnetProcess.RepositoryRoot();
        string folder = Directory.CreateTempSubdirectory("statedict-aot-").FullName;
        try
        {
            WriteApp(folder, Path.Combine(repo, "src", "Runtime", "StateDict.csproj"));
            string published = Path.Combine(folder, "out");

            var (code, output) = DotnetProcess.Run(TimeSpan.FromMinutes(30), folder, "publish", "-c", "Release", "-o", published,
                "--artifacts-path", Path.Combine(folder, "artifacts"));

            Assert.True(code == 0, $"Native AOT publish failed (it needs clang and zlib1g-dev):\n{output}");
            var warnings = Regex.Matches(output, @"warning IL[23]\d{3}.*").Select(m => m.Value).Distinct().ToList();
            Assert.True(warnings.Count == 0, "trim/AOT warnings:\n" + string.Join('\n', warnings));
            string[] files = Fixtures.Select(f => Path.Combine(repo, "tests", "fixtures", f)).ToArray();
            var printed = RunApp(Path.Combine(published, "aotreader"), files);
            foreach (var file in files)
            {
                var expected = Expected(file + ".expected.json");
                Assert.True(expected.Count > 0, $"{file}: no tensors in expected.json");
                Assert.Equal(expected, printed.GetValueOrDefault(file) ?? []);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void WriteApp(string folder, string runtimeProject)
    {
        File.WriteAllText(Path.Combine(folder, "aotreader.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <InvariantGlobalization>true</InvariantGlobalization>
                <PublishAot>true</PublishAot>
                <!-- One warning per problem, not one per assembly, so the test's message names it. -->
                <TrimmerSingleWarn>false</TrimmerSingleWarn>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{runtimeProject}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using System.Security.Cryptography;
            using StateDict;

            // For each file: one line per tensor, "file<TAB>key<TAB>sha256 of its bytes in row-major order".
            foreach (var path in args)
            {
                using var checkpoint = Checkpoint.Open(path);
                foreach (var key in checkpoint.Tensors.Keys)
                {
                    Console.WriteLine($"{path}\t{key}\t{Convert.ToHexStringLower(SHA256.HashData(checkpoint.ReadBytes(key).Span))}");
                }
            }
            """);
    }

    private static Dictionary<string, SortedDictionary<string, string>> RunApp(string executable, string[] files)
    {
        var start = new ProcessStartInfo(executable, files) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"the Native AOT app exited with {process.ExitCode}:\n{stdout}{stderr.Result}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .GroupBy(parts => parts[0])
            .ToDictionary(g => g.Key, g => new SortedDictionary<string, string>(g.ToDictionary(p => p[1], p => p[2]), StringComparer.Ordinal));
    }

    private static SortedDictionary<string, string> Expected(string expectedJson)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(expectedJson));
        return new SortedDictionary<string, string>(
            json.RootElement.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("sha256").GetString()!),
            StringComparer.Ordinal);
    }
}
