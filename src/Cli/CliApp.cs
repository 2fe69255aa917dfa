using System.CommandLine;

namespace StateDict.Cli;

/// <summary>
/// The <c>statedict</c> command line. Exit codes: 0 fine, 1 unreadable/corrupt/unsupported file, 2 usage,
/// 3 refused as unsafe. Output goes to the given writers so the whole CLI can be run in-process by tests.
/// </summary>
public static class CliApp
{
    /// <summary>Runs one command line and returns its exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var io = new CliOutput(stdout, stderr);
        var root = new RootCommand("Inspect PyTorch checkpoints (.pth, .pt, .bin, .ckpt) safely: nothing in a file is ever executed.")
        {
            InspectCommand.Create(io),
            SchemaCommand.Create(io),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                stderr.WriteLine($"statedict: {error.Message}");
            }
            stderr.WriteLine("Try 'statedict --help'.");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }
}

/// <summary>Where a command writes: its result to <see cref="Out"/>, messages to <see cref="Error"/>.</summary>
internal sealed record CliOutput(TextWriter Out, TextWriter Error);
