using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace StateDict.Cli;

/// <summary><c>statedict schema FILE [-o OUT] [--prefix P]</c>: the generator's schema JSON for a checkpoint.</summary>
internal static class SchemaCommand
{
    public const string FormatName = "statedict-schema/1";

    public static Command Create(CliOutput io)
    {
        var file = CliArguments.File();
        var output = new Option<string?>("--output", "-o") { Description = "Write the schema to this file instead of standard output." }.NonEmptyPath();
        var prefix = new Option<string?>("--prefix") { Description = "Only keys under this prefix (e.g. 'model.'), with the prefix removed." };
        var command = new Command("schema", "Write the schema (keys, dtypes, shapes) the source generator reads.") { file, output, prefix };
        command.SetAction(parse => ExitCodes.Guard(io, () =>
        {
            using var checkpoint = Checkpoint.Open(parse.GetValue(file)!, new LoadOptions { Prefix = parse.GetValue(prefix) });
            string json = Json(checkpoint);
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

    /// <summary>The schema as JSON text: one line per tensor, in file order.</summary>
    public static string Json(Checkpoint checkpoint)
    {
        var text = new StringBuilder();
        text.Append("{\n  \"format\": \"").Append(FormatName).Append("\",\n  \"tensors\": {");
        string separator = "\n";
        foreach (var info in checkpoint.Tensors.Values)
        {
            text.Append(separator)
                .Append("    \"").Append(JsonEncodedText.Encode(info.Key, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).Append("\": ")
                .Append("{\"dtype\": \"").Append(info.DType.Name()).Append("\", \"shape\": [").Append(string.Join(", ", info.Shape)).Append("]}");
            separator = ",\n";
        }
        text.Append(checkpoint.Tensors.Count == 0 ? "}\n}\n" : "\n  }\n}\n");
        return text.ToString();
    }
}
