using System.CommandLine;

namespace StateDict.Cli;

/// <summary><c>statedict schema FILE [-o OUT] [--prefix P] [--allow-module-pickles]</c>: the generator's schema JSON for a checkpoint.</summary>
internal static class SchemaCommand
{
    public static Command Create(CliOutput io)
    {
        var file = CliArguments.File();
        var output = new Option<string?>("--output", "-o") { Description = "Write the schema to this file instead of standard output." }.NonEmptyPath();
        var prefix = new Option<string?>("--prefix") { Description = "Only keys under this prefix (e.g. 'model.'), with the prefix removed." };
        var modules = CliArguments.AllowModulePickles();
        var command = new Command("schema", "Write the schema (keys, dtypes, shapes) the source generator reads.") { file, output, prefix, modules };
        command.SetAction(parse => ExitCodes.Guard(io, () =>
        {
            using var checkpoint = Checkpoint.Open(parse.GetValue(file)!, new LoadOptions { Prefix = parse.GetValue(prefix), AllowModulePickles = parse.GetValue(modules) });
            string json = SchemaJson.Write(checkpoint);
            string? path = parse.GetValue(output);
            if (path is null)
            {
                io.Out.Write(json);
            }
            else
            {
                File.WriteAllText(path, json);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
