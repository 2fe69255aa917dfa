namespace StateDict.Package.Tests;

/// <summary>
/// Packs the StateDict and StateDict.Tool packages once, with a unique version, into a temporary folder feed.
/// The pack builds into its own artifacts folder so it never disturbs the solution's build output.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public PackedFeed()
    {
        Root = Directory.CreateTempSubdirectory("statedict-package-tests-").FullName;
        Feed = Path.Combine(Root, "feed");
        Version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string repo = DotnetProcess.RepositoryRoot();
        // The tool is RID-specific: StateDict.Tool points at StateDict.Tool.RID, packed here for this machine's RID. Shipped,
        // that package is Native AOT; here it is packed without AOT (self-contained), because the suite's one Native AOT
        // publish is NativeAotTests' (minutes on a small machine) and the install path is the same.
        string[][] packs =
        [
            ["src/Runtime/StateDict.csproj"],
            ["src/Cli/StateDict.Cli.csproj"],
            ["src/Cli/StateDict.Cli.csproj", "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "-p:PublishAot=false"],
        ];
        foreach (var pack in packs)
        {
            var (code, output) = DotnetProcess.Run(repo, ["pack", .. pack, "-c", "Release", "-o", Feed,
                $"-p:Version={Version}", "--artifacts-path", Path.Combine(Root, "artifacts")]);
            Assert.True(code == 0, $"dotnet pack {string.Join(' ', pack)} failed:\n{output}");
        }
    }

    public string Root { get; }

    public string Feed { get; }

    public string Version { get; }

    /// <summary>A new empty project folder whose nuget.config points at the feed (and nuget.org's mirror for dependencies).</summary>
    public string NewProjectFolder(string name)
    {
        string folder = Path.Combine(Root, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <add key="statedict-test-feed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        return folder;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
            // Keep the machine's NuGet cache free of test versions.
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (var id in new[] { "statedict", "statedict.tool", $"statedict.tool.{System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}" })
            {
                string installed = Path.Combine(cache, id, Version);
                if (Directory.Exists(installed))
                {
                    Directory.Delete(installed, recursive: true);
                }
            }
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }
}
