using System.CommandLine;
using System.Globalization;

namespace StateDict.Cli;

/// <summary>
/// <c>statedict convert IN OUT [--to pth|safetensors] [--prefix P] [--nested] [--allow-module-pickles]</c>: any
/// readable checkpoint to a <c>.pth</c> that <c>torch.load(weights_only=True)</c> reads, or to <c>.safetensors</c>.
/// Exit codes as for inspect: 0 written, 1 unreadable input or output not writable in that format, 2 usage, 3 unsafe.
/// </summary>
internal static class ConvertCommand
{
    private static readonly string[] PthExtensions = [".pth", ".pt", ".bin", ".ckpt", ".tar"];

    public static Command Create(CliOutput io)
    {
        var input = CliArguments.File();
        var output = new Argument<string>("out") { Description = "The file to write: .pth/.pt/.bin/.ckpt (torch.save's zip format) or .safetensors." };
        output.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("the OUT argument is empty");
            }
        });
        var to = new Option<string?>("--to") { Description = "The output format, whatever OUT's extension: pth or safetensors." };
        to.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && value is not ("pth" or "safetensors"))
            {
                result.AddError($"--to must be pth or safetensors, not '{value}'");
            }
        });
        var prefix = new Option<string?>("--prefix") { Description = "Convert only keys under this prefix (e.g. 'model.'), with the prefix removed." };
        var nested = new Option<bool>("--nested") { Description = "pth only: write dotted keys as nested dicts ({'model': {'fc1': {'weight': ...}}}) instead of one flat state_dict." };
        var modules = CliArguments.AllowModulePickles();
        var command = new Command("convert",
            "Convert a checkpoint (any format StateDict reads) to .pth, loadable by torch.load(weights_only=True), or to .safetensors. " +
            "Tensors keep their bytes exactly; tied tensors are written once. safetensors holds no plain values (epoch, lr, ...): they are left out, with a note.")
        {
            input, output, to, prefix, nested, modules,
        };
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(input)!;
            string outPath = parse.GetValue(output)!;
            SaveFormat? format = parse.GetValue(to) switch
            {
                "pth" => SaveFormat.Pth,
                "safetensors" => SaveFormat.Safetensors,
                _ => FormatOf(outPath),
            };
            if (format is null)
            {
                io.Error.WriteLine($"statedict: cannot tell the output format from '{Path.GetFileName(outPath)}'; name it .pth or .safetensors, or say --to pth|safetensors.");
                return ExitCodes.Usage;
            }
            if (string.Equals(Path.GetFullPath(inPath), Path.GetFullPath(outPath), StringComparison.Ordinal))
            {
                io.Error.WriteLine("statedict: OUT is the input file; write the conversion to another file.");
                return ExitCodes.Usage;
            }
            if (parse.GetValue(nested) && format == SaveFormat.Safetensors)
            {
                io.Error.WriteLine("statedict: --nested applies to .pth output only; safetensors keys are always flat.");
                return ExitCodes.Usage;
            }
            return ExitCodes.Guard(io, () => Convert(io, inPath, outPath, format.Value, new LoadOptions
            {
                Prefix = parse.GetValue(prefix),
                AllowModulePickles = parse.GetValue(modules),
            }, parse.GetValue(nested)));
        });
        return command;
    }

    private static int Convert(CliOutput io, string inPath, string outPath, SaveFormat format, LoadOptions load, bool nested)
    {
        using var checkpoint = Checkpoint.Open(inPath, load);
        using (var bar = ProgressBar.ForTerminal(io, "reading"))
        {
            checkpoint.Preload(bar);
        }
        try
        {
            using var bar = ProgressBar.ForTerminal(io, "writing");
            checkpoint.Save(outPath, new SaveOptions { Format = format, Keys = nested ? KeyLayout.Nested : KeyLayout.Flat, Progress = bar });
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            io.Error.WriteLine($"statedict: cannot write {Path.GetFileName(outPath)}: {e.Message}");
            return ExitCodes.Unreadable;
        }

        long bytes = checkpoint.Tensors.Values.Sum(t => t.ByteLength);
        string kind = format == SaveFormat.Safetensors ? "safetensors" : "pth";
        int values = format == SaveFormat.Safetensors ? 0 : checkpoint.Values.Count;
        io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outPath} ({kind}): {checkpoint.Tensors.Count} tensors ({bytes:N0} bytes), {values} values, from {inPath} ({checkpoint.Format.ToString().ToLowerInvariant()})"));
        if (format == SaveFormat.Safetensors && checkpoint.Values.Count > 0)
        {
            var names = checkpoint.Values.Keys.Take(5).ToList();
            io.Error.WriteLine($"statedict: note: safetensors holds tensors only; {checkpoint.Values.Count} plain value{(checkpoint.Values.Count == 1 ? " was" : "s were")} left out " +
                $"({string.Join(", ", names)}{(checkpoint.Values.Count > names.Count ? ", ..." : "")}).");
        }
        return ExitCodes.Ok;
    }

    private static SaveFormat? FormatOf(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension == ".safetensors" ? SaveFormat.Safetensors
            : PthExtensions.Contains(extension) ? SaveFormat.Pth
            : null;
    }
}
