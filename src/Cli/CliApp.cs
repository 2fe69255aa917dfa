using System.CommandLine;

namespace StateDict.Cli;

/// <summary>
/// The <c>statedict</c> command line. Exit codes: 0 fine, 1 unreadable/corrupt/unsupported file, 2 usage,
/// 3 refused as unsafe, 4 (<c>diff</c>) the checkpoints differ. Output goes to the given writers so the whole CLI can be run in-process by tests.
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
            ScanCommand.Create(io),
            ConvertCommand.Create(io),
            DiffCommand.Create(io),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line, whatever the number of errors: scripts read the first line of stderr.
            var messages = parsed.Errors.Select(e => e.Message.TrimEnd('.'));
            stderr.WriteLine($"statedict: {string.Join("; ", messages)}. Try 'statedict --help'.");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }
}

/// <summary>Where a command writes: its result to <see cref="Out"/>, messages to <see cref="Error"/>.</summary>
internal sealed record CliOutput(TextWriter Out, TextWriter Error);

/// <summary>Arguments and options shared by the commands.</summary>
internal static class CliArguments
{
    /// <summary>The FILE argument. An empty name is a usage error (exit 2), not an exception.</summary>
    public static Argument<string> File()
    {
        var file = new Argument<string>("file") { Description = "The checkpoint (.pth, .pt, .bin, .ckpt)." };
        file.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("the FILE argument is empty");
            }
        });
        return file;
    }

    /// <summary><c>--allow-module-pickles</c>: read whole pickled models (<see cref="LoadOptions.AllowModulePickles"/>).</summary>
    public static Option<bool> AllowModulePickles() => new("--allow-module-pickles")
    {
        Description = "Read whole pickled models (torch.save(model), pickle.dump(model)) as their state_dict, running nothing; " +
            "their classes are treated as plain names, and globals that would run code or open files are still refused.",
    };

    /// <summary>Refuses an empty path given to a path option (e.g. <c>-o ""</c>) as a usage error.</summary>
    public static Option<string?> NonEmptyPath(this Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.GetValueOrDefault<string?>()))
            {
                result.AddError($"the {option.Name} option is empty");
            }
        });
        return option;
    }
}
