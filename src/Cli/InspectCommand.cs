using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace StateDict.Cli;

/// <summary><c>statedict inspect FILE [--json] [--hash] [--prefix P] [--allow-module-pickles]</c>: what a checkpoint holds.</summary>
internal static class InspectCommand
{
    public static Command Create(CliOutput io)
    {
        var file = CliArguments.File();
        var json = new Option<bool>("--json") { Description = "Print JSON: {file, format, tensors[{key, dtype, shape, sha256?}], values}." };
        var hash = new Option<bool>("--hash") { Description = "Add each tensor's SHA-256 over its contiguous row-major little-endian bytes." };
        var prefix = new Option<string?>("--prefix") { Description = "Show only keys under this prefix (e.g. 'model.'), with the prefix removed." };
        var modules = CliArguments.AllowModulePickles();
        var command = new Command("inspect", "List a checkpoint's tensors (key, dtype, shape, bytes) and plain values.") { file, json, hash, prefix, modules };
        command.SetAction(parse => ExitCodes.Guard(io, () =>
        {
            using var checkpoint = Checkpoint.Open(parse.GetValue(file)!, new LoadOptions { Prefix = parse.GetValue(prefix), AllowModulePickles = parse.GetValue(modules) });
            foreach (var warning in checkpoint.Warnings)
            {
                io.Error.WriteLine($"statedict: warning: {warning}");
            }
            if (parse.GetValue(hash))
            {
                using var bar = ProgressBar.ForTerminal(io, "reading");
                checkpoint.Preload(bar);
            }
            var hashes = parse.GetValue(hash) ? Hashes(checkpoint) : null;
            if (parse.GetValue(json))
            {
                WriteJson(io.Out, checkpoint, hashes);
            }
            else
            {
                WriteTable(io.Out, checkpoint, hashes);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Dictionary<string, string> Hashes(Checkpoint checkpoint) =>
        // A meta tensor has no data, so no hash.
        checkpoint.Tensors.Values.Where(t => !t.IsMeta)
            .ToDictionary(t => t.Key, t => Convert.ToHexStringLower(SHA256.HashData(checkpoint.ReadBytes(t.Key).Span)));

    private static void WriteJson(TextWriter output, Checkpoint checkpoint, Dictionary<string, string>? hashes)
    {
        using var buffer = new MemoryStream();
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("file", Path.GetFileName(checkpoint.Path));
        writer.WriteString("format", checkpoint.Format.ToString().ToLowerInvariant());
        writer.WriteStartArray("tensors");
        foreach (var info in checkpoint.Tensors.Values)
        {
            writer.WriteStartObject();
            writer.WriteString("key", info.Key);
            writer.WriteString("dtype", info.DType.Name());
            JsonValues.WriteShape(writer, "shape", info.Shape);
            WriteKind(writer, checkpoint, info);
            if (info.IsMeta)
            {
                writer.WriteString("device", "meta");
            }
            if (hashes is not null && hashes.TryGetValue(info.Key, out var sha256))
            {
                writer.WriteString("sha256", sha256);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartObject("values");
        foreach (var (key, value) in checkpoint.Values)
        {
            writer.WritePropertyName(key);
            JsonValues.Write(writer, value);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteTable(TextWriter output, Checkpoint checkpoint, Dictionary<string, string>? hashes)
    {
        var rows = checkpoint.Tensors.Values.Select(t => new[]
        {
            t.Key, t.IsMeta ? $"{t.DType.Name()} (meta, no data)" : t.DType.Name(), $"[{string.Join(", ", t.Shape)}]", t.ByteLength.ToString("N0", CultureInfo.InvariantCulture),
            hashes?.GetValueOrDefault(t.Key) ?? "",
        }).ToList();
        string[] header = hashes is null ? ["key", "dtype", "shape", "bytes"] : ["key", "dtype", "shape", "bytes", "sha256"];
        output.WriteLine($"{checkpoint.Path} ({checkpoint.Format.ToString().ToLowerInvariant()} format)");
        output.WriteLine();
        TextTable.Write(output, header, rows.Select(r => r[..header.Length]).ToList(), rightAligned: 3);
        long bytes = checkpoint.Tensors.Values.Sum(t => t.ByteLength);
        long elements = checkpoint.Tensors.Values.Sum(t => t.ElementCount);
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{checkpoint.Tensors.Count} tensors, {elements:N0} elements, {bytes:N0} bytes ({bytes / 1048576.0:0.##} MiB)"));
        if (checkpoint.Values.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"{checkpoint.Values.Count} values:");
            foreach (var (key, value) in checkpoint.Values)
            {
                output.WriteLine($"  {key} = {JsonValues.Display(value)}");
            }
        }
        if (checkpoint.Metadata.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"metadata ({checkpoint.Metadata.Count}):");
            foreach (var (key, value) in checkpoint.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                output.WriteLine($"  {key} = {value}");
            }
        }
    }

    /// <summary>Sparse components and quantized tensors say what they belong to (docs/tensor-kinds.md).</summary>
    private static void WriteKind(Utf8JsonWriter writer, Checkpoint checkpoint, TensorInfo info)
    {
        if (info.Layout != TensorLayout.Strided)
        {
            writer.WriteString("layout", info.Layout.Name());
        }
        if (info.Owner is { } owner)
        {
            writer.WriteString("of", owner);
            writer.WriteString("component", info.Component);
        }
        if (info.QuantizedDType is { } qdtype && checkpoint.QuantizedTensors.TryGetValue(info.Key, out var q))
        {
            writer.WriteString("quantized_dtype", qdtype.Name());
            writer.WriteString("qscheme", q.Scheme.Name());
            JsonValues.WriteShape(writer, "quantized_shape", q.Shape);
            if (q.Scheme == QScheme.PerTensorAffine)
            {
                writer.WriteNumber("scale", q.Scale);
                writer.WriteNumber("zero_point", q.ZeroPoint);
            }
            else
            {
                writer.WriteNumber("axis", q.Axis);
            }
        }
    }
}
