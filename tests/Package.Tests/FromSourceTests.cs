using System.Text.RegularExpressions;

namespace StateDict.Package.Tests;

/// <summary>
/// README's "Use it from source" steps, taken from the README itself so they cannot drift: clone, pack into a folder,
/// a new console project with the README's nuget.config and PackageReference, then a build that uses the generator
/// (a checkpoint item and a config) and a run. NuGet's package cache is a fresh folder, so nothing stale is restored.
/// </summary>
public partial class FromSourceTests
{
    private const string Section = "### Use it from source";

    [Fact]
    public void The_README_steps_give_a_new_project_the_package_packed_from_a_clone()
    {
        string repo = DotnetProcess.RepositoryRoot();
        var blocks = FencedBlocks(File.ReadAllText(Path.Combine(repo, "README.md")));
        string[] commands = blocks.Single(b => b.Language == "sh").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string nugetConfig = blocks.Single(b => b.Language == "xml" && b.Text.Contains("<packageSources>", StringComparison.Ordinal)).Text;
        string packageReference = blocks.Single(b => b.Language == "xml" && b.Text.Contains("<PackageReference", StringComparison.Ordinal)).Text;
        Assert.Equal(["git clone", "dotnet pack", "dotnet new"], commands.Select(c => string.Join(' ', c.Split(' ').Take(2))));

        string root = Directory.CreateTempSubdirectory("statedict-from-source-").FullName;
        try
        {
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root, "packages") };
            foreach (string command in commands)
            {
                // REPOSITORY stands for wherever the reader got the repository; here it is this checkout (its committed state).
                string[] words = command.Replace("REPOSITORY", repo, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var (code, output) = DotnetProcess.RunProgram(words[0], TimeSpan.FromMinutes(10), root, environment, words[1..]);
                Assert.True(code == 0, $"{command} failed:\n{output}");
            }

            string app = Path.Combine(root, "MyApp");
            File.WriteAllText(Path.Combine(app, "nuget.config"), nugetConfig);
            string project = Path.Combine(app, "MyApp.csproj");
            File.WriteAllText(project, File.ReadAllText(project).Replace("</Project>", packageReference + """
                <ItemGroup>
                  <StateDictCheckpoint Include="digits_mlp.pth" />
                  <AdditionalFiles Include="model/config.json" />
                </ItemGroup>
                </Project>
                """, StringComparison.Ordinal));
            File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "digits_mlp.pth"), Path.Combine(app, "digits_mlp.pth"));
            Directory.CreateDirectory(Path.Combine(app, "model"));
            File.WriteAllText(Path.Combine(app, "model", "config.json"), """{"hidden_size": 128, "labels": ["zero", "one"], "dropout": 0.1}""");
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using StateDict;

                var config = AppConfig.Load("model/config.json");
                using var w = Digits.Load("digits_mlp.pth");
                Console.WriteLine($"hidden {config.HiddenSize} = {w.Hidden.Weight.Shape[0]}, labels {string.Join(",", config.Labels)}, dropout {config.Dropout}");

                [StateDictSchema("digits_mlp.pth")]
                public partial class Digits;

                [StateDictConfig("model/config.json")]
                public partial class AppConfig;
                """);

            var (runCode, runOutput) = DotnetProcess.RunProgram("dotnet", TimeSpan.FromMinutes(10), app, environment, "run");

            Assert.True(runCode == 0, runOutput);
            Assert.Contains("hidden 128 = 128, labels zero,one, dropout 0.1", runOutput, StringComparison.Ordinal);
            Assert.True(Directory.Exists(Path.Combine(root, "packages", "statedict", "1.0.0")), "the package came from the packed folder");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The fenced code blocks of the README's from-source section, with their language.</summary>
    private static List<(string Language, string Text)> FencedBlocks(string readme)
    {
        int start = readme.IndexOf("\n" + Section + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{Section}' section");
        int end = readme.IndexOf("\n#", start + Section.Length + 2, StringComparison.Ordinal);
        string section = readme[start..(end < 0 ? readme.Length : end)];
        return Fence().Matches(section).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
    }

    [GeneratedRegex("```(\\w+)\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Fence();
}
