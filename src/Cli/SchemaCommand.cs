using System.CommandLine;
using System.Text.Json;

namespace StateDict.Cli;

/// <summary><c>statedict schema FILE [-o OUT] [--prefix P]</c>: the generator's schema JSON for a checkpoint.</summary>
internal static class SchemaCommand
{
    public const string FormatName = "statedict-schema/1";

    public static Command Create(CliOutput io)
    {
        var file = new Argument<string>("file") { Description = "The checkpoint (.pth, .pt, .bin, .ckpt)." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the schema to this file instead of standard output." };
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

    /// <summary>The schema as JSON text: tensors in file order.</summary>
    public static string Json(Checkpoint checkpoint)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatName);
            writer.WriteStartObject("tensors");
            foreach (var info in checkpoint.Tensors.Values)
            {
                writer.WriteStartObject(info.Key);
                writer.WriteString("dtype", info.DType.Name());
                JsonValues.WriteShape(writer, "shape", info.Shape);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
