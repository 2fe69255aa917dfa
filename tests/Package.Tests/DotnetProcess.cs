using System.Diagnostics;

namespace StateDict.Package.Tests;

/// <summary>Runs the dotnet CLI as a new user would, isolated from the test host's own MSBuild environment.</summary>
internal static class DotnetProcess
{
    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] args) =>
        Run(TimeSpan.FromMinutes(5), workingDirectory, args);

    public static (int ExitCode, string Output) Run(TimeSpan timeout, string workingDirectory, params string[] args) =>
        RunProgram("dotnet", timeout, workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>Runs <paramref name="program"/> (dotnet, git) with <paramref name="environment"/> added to the cleaned environment.</summary>
    public static (int ExitCode, string Output) RunProgram(string program, TimeSpan timeout, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // The test host runs under `dotnet test`; its MSBuild variables must not leak into the child builds.
        foreach (var name in new[] { "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "DOTNET_HOST_PATH" })
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeout.TotalMinutes} minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string RepositoryRoot()
    {
        string root = typeof(DotnetProcess).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
        Assert.True(File.Exists(Path.Combine(root, "Bindings.sln")), $"Bindings.sln not found in {root}");
        return root;
    }
}
