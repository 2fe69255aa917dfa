using System.CommandLine;
using StateDict.Cli;

// statedict: inspect PyTorch checkpoints and extract schemas, without Python.
// Exit codes: 0 fine, 1 unreadable/corrupt/unsupported file, 2 usage, 3 refused as unsafe.
var root = new RootCommand("Inspect PyTorch checkpoints (.pth, .pt, .bin, .ckpt) safely: nothing in a file is ever executed.")
{
    InspectCommand.Create(),
    SchemaCommand.Create(),
};
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"statedict: {error.Message}");
    }
    Console.Error.WriteLine("Try 'statedict --help'.");
    return ExitCodes.Usage;
}
return parsed.Invoke();
