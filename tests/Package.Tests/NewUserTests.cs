namespace StateDict.Package.Tests;

/// <summary>What a new user does: a brand-new project, the packed package from a folder feed, a checkpoint, a class.</summary>
public class NewUserTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    [Fact]
    public void Package_contains_runtime_analyzer_build_logic_and_schema_tool()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed.Feed, $"StateDict.{feed.Version}.nupkg"));
        var names = package.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/StateDict.dll", names);
        Assert.Contains("analyzers/dotnet/cs/StateDict.Generator.dll", names);
        Assert.Contains("build/StateDict.props", names);
        Assert.Contains("build/StateDict.targets", names);
        Assert.Contains("buildTransitive/StateDict.targets", names);
        Assert.Contains("tools/net10.0/StateDict.SchemaTool.dll", names);
        Assert.Contains("README.md", names);
        // Nothing the generator depends on is packed beside it.
        Assert.Single(names, n => n.StartsWith("analyzers/", StringComparison.Ordinal));
    }

    [Fact]
    public void Fresh_console_project_binds_a_checkpoint_item_and_runs()
    {
        string folder = feed.NewProjectFolder("fresh");
        Directory.CreateDirectory(Path.Combine(folder, "weights"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "digits_mlp.pth"), Path.Combine(folder, "weights", "digits_mlp.pth"));
        File.WriteAllText(Path.Combine(folder, "fresh.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="StateDict" Version="{feed.Version}" />
                <StateDictCheckpoint Include="weights/digits_mlp.pth" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using StateDict;

            using var w = Digits.Load("weights/digits_mlp.pth");
            Console.WriteLine($"hidden.weight [{string.Join(", ", w.Hidden.Weight.Shape)}] out.bias[0]={w.Out.Bias[0]:R}");

            [StateDictSchema("weights/digits_mlp.pth")]
            public partial class Digits;
            """);

        var (code, output) = DotnetProcess.Run(folder, "run");

        Assert.True(code == 0, output);
        using var checkpoint = Checkpoint.Open(Path.Combine(folder, "weights", "digits_mlp.pth"));
        Assert.Contains($"hidden.weight [128, 64] out.bias[0]={checkpoint.Read<float>("out.bias").Span[0]:R}", output);
    }

    [Fact]
    public void Misspelt_tensor_key_fails_the_build_with_did_you_mean()
    {
        string folder = feed.NewProjectFolder("typo");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "digits_mlp.pth"), Path.Combine(folder, "digits_mlp.pth"));
        File.WriteAllText(Path.Combine(folder, "typo.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="StateDict" Version="{feed.Version}" />
                <StateDictCheckpoint Include="digits_mlp.pth" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Head.cs"), """
            using StateDict;

            [StateDictSchema("digits_mlp.pth")]
            public partial class Head
            {
                [TensorKey("out.wieght")] public partial TensorView<float> Weight { get; }
            }
            """);

        var (code, output) = DotnetProcess.Run(folder, "build");

        Assert.NotEqual(0, code);
        Assert.Contains("error SD0013", output);
        Assert.Contains("did you mean 'out.weight'?", output);
        Assert.DoesNotContain("CS9248", output);
    }

    [Fact]
    public void Tool_package_installs_the_statedict_command()
    {
        string folder = feed.NewProjectFolder("tool");
        var (install, installOutput) = DotnetProcess.Run(folder, "tool", "install", "StateDict.Tool", "--version", feed.Version,
            "--tool-path", Path.Combine(folder, "bin"), "--add-source", feed.Feed);
        Assert.True(install == 0, installOutput);

        string fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "digits_mlp.pth");
        var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(folder, "bin", "statedict"), ["inspect", fixture])
        {
            RedirectStandardOutput = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("hidden.weight", output);
        Assert.Contains("[128, 64]", output);
    }
}
