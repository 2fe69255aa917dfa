using System.Diagnostics;
using System.Runtime.CompilerServices;
using Xunit;

namespace StateDict.Tests.Writing;

/// <summary>
/// Real PyTorch, when this machine has it: Debian's <c>python3-torch</c> under <c>/usr/bin/python3</c> (which
/// <c>.ci/run</c> installs), else whatever <c>python3</c> is on PATH, or the interpreter STATEDICT_PYTHON names. Tests that need it are skipped, with the reason,
/// when <c>import torch</c> fails.
/// </summary>
internal static class TorchLane
{
    private static readonly Lazy<(string? Version, string Reason)> Probe = new(Detect);

    /// <summary>STATEDICT_PYTHON if set, else Debian's /usr/bin/python3, else python3 on PATH.</summary>
    public static string Python { get; } = Environment.GetEnvironmentVariable("STATEDICT_PYTHON") is { Length: > 0 } chosen ? chosen
        : File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>The installed torch version, or null.</summary>
    public static string? TorchVersion => Probe.Value.Version;

    /// <summary>Why the lane cannot run, or null when it can.</summary>
    public static string? SkipReason => Probe.Value.Version is null ? Probe.Value.Reason : null;

    /// <summary>The verification script committed next to this file.</summary>
    public static string Script => Path.Combine(SourceDirectory(), "verify_with_torch.py");

    /// <summary>Runs <see cref="Python"/> with the arguments; returns exit code, stdout, stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, stdout.Result, $"timed out after {timeout.TotalSeconds:0} s\n{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static (string? Version, string Reason) Detect()
    {
        try
        {
            var (code, stdout, stderr) = Run(TimeSpan.FromMinutes(2), "-c", "import torch; print(torch.__version__)");
            return code == 0
                ? (stdout.Trim(), "")
                : (null, $"PyTorch is not installed ({Python} -c \"import torch\" failed: {stderr.Trim().Split('\n').LastOrDefault()}); apt-get install python3-torch, as .ci/run does");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (null, $"no Python to run PyTorch with ({Python}: {e.Message})");
        }
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

/// <summary>A fact that needs real PyTorch: skipped, saying why, when <c>import torch</c> fails.</summary>
public sealed class TorchFactAttribute : FactAttribute
{
    public TorchFactAttribute()
    {
        if (TorchLane.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs real PyTorch: skipped, saying why, when <c>import torch</c> fails.</summary>
public sealed class TorchTheoryAttribute : TheoryAttribute
{
    public TorchTheoryAttribute()
    {
        if (TorchLane.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
