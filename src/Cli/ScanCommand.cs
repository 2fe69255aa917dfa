using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace StateDict.Cli;

/// <summary>
/// <c>statedict scan FILE… [--json]</c>: every global each file's pickles reference, with a verdict, without running
/// anything. Exit 0 when every file is clean, 3 when any is unsafe, 1 when any is unreadable or has a member it could
/// not scan ("unscanned member X: why"), and none is unsafe.
/// </summary>
internal static class ScanCommand
{
    public static Command Create(CliOutput io)
    {
        var files = new Argument<string[]>("files") { Description = "Files to scan (.pth, .pt, .bin, .ckpt, .pkl, .safetensors).", Arity = ArgumentArity.OneOrMore };
        files.Validators.Add(result =>
        {
            // A variadic argument swallows unknown options: "scan --jsn x.pth" must be a usage error, not a file named "--jsn".
            foreach (string file in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (file.Length > 1 && file[0] == '-' && !File.Exists(file))
                {
                    result.AddError($"Unrecognized command or argument '{file}'");
                }
                else if (string.IsNullOrWhiteSpace(file))
                {
                    result.AddError("a FILE argument is empty");
                }
            }
        });
        var verbose = new Option<bool>("--verbose", "-v") { Description = "List every pickle and every global, allowed ones too." };
        var json = new Option<bool>("--json") { Description = "Print JSON: {files: [{file, format, verdict, error?, pickles: [{part, protocol, calls, globals: [{name, offset, risk, reason}]}]}]}." };
        var command = new Command("scan", "List the Python globals a file's pickles would import, and whether each is safe. Nothing is executed.") { files, json, verbose };
        command.SetAction(parse => ExitCodes.Guard(io, () =>
        {
            var reports = parse.GetValue(files)!.Select(f => CheckpointScanner.Scan(f)).ToList();
            if (parse.GetValue(json))
            {
                WriteJson(io.Out, reports);
            }
            else
            {
                reports.ForEach(r => WriteText(io.Out, r, parse.GetValue(verbose)));
            }
            return reports.Any(r => r.Verdict == ScanVerdict.Unsafe) ? ExitCodes.Unsafe
                : reports.Any(r => r.Verdict == ScanVerdict.Unreadable) ? ExitCodes.Unreadable
                : ExitCodes.Ok;
        }));
        return command;
    }

    private static void WriteText(TextWriter output, ScanReport report, bool verbose)
    {
        var unsafeNames = report.Unsafe.Select(g => g.Name).Distinct().ToList();
        int globals = report.Pickles.Sum(p => p.Globals.Count);
        string scanned = $"{report.Format}; {Plural(report.Pickles.Count, "pickle")}, {Plural(globals, "global")}";
        string summary = report.Verdict switch
        {
            ScanVerdict.Clean => $"clean ({scanned}, all allowed)",
            ScanVerdict.Unsafe => $"UNSAFE ({scanned}; {Plural(unsafeNames.Count, "unsafe global")}: {string.Join(", ", unsafeNames)})",
            _ => $"unreadable: {report.Error}",
        };
        output.WriteLine($"{report.FilePath}: {summary}");
        foreach (var pickle in report.Pickles)
        {
            var shown = pickle.Globals.Where(g => verbose || g.Risk != GlobalRisk.Allowed).ToList();
            if (shown.Count == 0 && !verbose)
            {
                continue;
            }
            string calls = pickle.Calls.Count == 0 ? "no calls" : "would call: " + string.Join(", ", pickle.Calls.Select(c => $"{c.Key} x{c.Value}"));
            output.WriteLine($"  {pickle.Part} (protocol {pickle.Protocol}; {calls})");
            if (shown.Count > 0)
            {
                var buffer = new StringWriter();
                TextTable.Write(buffer, ["verdict", "global", "where", "why"], shown.Select(g => new[] { Risk(g.Risk), g.Name, $"byte {g.Offset}", g.Reason }).ToList(), rightAligned: -1);
                foreach (var line in buffer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    output.WriteLine("    " + line);
                }
            }
        }
        foreach (var unscanned in report.Unscanned)
        {
            output.WriteLine($"  {unscanned}");
        }
        if (report.Verdict == ScanVerdict.Unsafe && report.Error is not null)
        {
            output.WriteLine($"  (scan stopped early: {report.Error})");
        }
    }

    private static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    private static string Risk(GlobalRisk risk) => risk switch
    {
        GlobalRisk.Allowed => "allowed",
        GlobalRisk.CodeExecution => "UNSAFE: code execution",
        GlobalRisk.FileOrNetwork => "UNSAFE: file/network",
        _ => "UNSAFE: unknown class",
    };

    private static void WriteJson(TextWriter output, List<ScanReport> reports)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("files");
            foreach (var report in reports)
            {
                writer.WriteStartObject();
                writer.WriteString("file", report.FilePath);
                writer.WriteString("format", report.Format);
                writer.WriteString("verdict", report.Verdict.ToString().ToLowerInvariant());
                if (report.Error is not null)
                {
                    writer.WriteString("error", report.Error);
                }
                writer.WriteStartArray("pickles");
                foreach (var pickle in report.Pickles)
                {
                    writer.WriteStartObject();
                    writer.WriteString("part", pickle.Part);
                    writer.WriteNumber("protocol", pickle.Protocol);
                    writer.WriteStartObject("calls");
                    foreach (var (opcode, count) in pickle.Calls)
                    {
                        writer.WriteNumber(opcode, count);
                    }
                    writer.WriteEndObject();
                    writer.WriteStartArray("globals");
                    foreach (var g in pickle.Globals)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("name", g.Name);
                        writer.WriteNumber("offset", g.Offset);
                        writer.WriteString("risk", JsonNamingPolicy.SnakeCaseLower.ConvertName(g.Risk.ToString()));
                        writer.WriteString("reason", g.Reason);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
