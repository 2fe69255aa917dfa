using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace StateDict.Cli;

/// <summary>
/// <c>statedict diff A B [--json] [--prefix P] [--allow-module-pickles]</c>: keys only in A, only in B, dtype or
/// shape changes, and for tensors in both whether their bytes are equal, with the largest absolute difference for
/// floating-point tensors of the same shape; plain values compared too. Exit 0 when identical, 4 when they differ,
/// 1 when either file is unreadable, 3 when either is unsafe, 2 for usage errors.
/// </summary>
internal static class DiffCommand
{
    public static Command Create(CliOutput io)
    {
        var a = new Argument<string>("a") { Description = "The first checkpoint." };
        var b = new Argument<string>("b") { Description = "The second checkpoint." };
        foreach (var argument in new[] { a, b })
        {
            argument.Validators.Add(result =>
            {
                if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
                {
                    result.AddError($"the {argument.Name.ToUpperInvariant()} argument is empty");
                }
            });
        }
        var json = new Option<bool>("--json")
        {
            Description = "Print JSON: {a, b, identical, only_in_a, only_in_b, changed, tensors: [{key, equal, max_abs_diff}], values: {only_in_a, only_in_b, changed}}.",
        };
        var prefix = new Option<string?>("--prefix") { Description = "Compare only keys under this prefix (e.g. 'model.') in both files, with the prefix removed." };
        var modules = CliArguments.AllowModulePickles();
        var command = new Command("diff",
            "Compare two checkpoints of any formats: keys only in one, dtype/shape changes, tensors whose bytes differ (max |a-b| for floats), plain values. " +
            "Exit 0 when identical, 4 when different.")
        {
            a, b, json, prefix, modules,
        };
        command.SetAction(parse => ExitCodes.Guard(io, () =>
        {
            var options = new LoadOptions { Prefix = parse.GetValue(prefix), AllowModulePickles = parse.GetValue(modules) };
            using var first = Open(io, parse.GetValue(a)!, options, "reading A");
            using var second = Open(io, parse.GetValue(b)!, options, "reading B");
            var report = Compare(first, second);
            if (parse.GetValue(json))
            {
                WriteJson(io.Out, report);
            }
            else
            {
                WriteText(io.Out, report);
            }
            return report.Identical ? ExitCodes.Ok : ExitCodes.Different;
        }));
        return command;
    }

    private static Checkpoint Open(CliOutput io, string path, LoadOptions options, string label)
    {
        var checkpoint = Checkpoint.Open(path, options);
        try
        {
            using var bar = ProgressBar.ForTerminal(io, label);
            checkpoint.Preload(bar);
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    internal sealed record TensorDiff(string Key, bool Equal, double? MaxAbsDiff);

    internal sealed record Report(
        Checkpoint A, Checkpoint B,
        List<TensorInfo> OnlyInA, List<TensorInfo> OnlyInB, List<(TensorInfo A, TensorInfo B, double? MaxAbsDiff)> Changed,
        List<TensorDiff> Common,
        List<string> ValuesOnlyInA, List<string> ValuesOnlyInB, List<string> ValuesChanged)
    {
        public bool Identical => OnlyInA.Count == 0 && OnlyInB.Count == 0 && Changed.Count == 0 && Common.All(t => t.Equal)
            && ValuesOnlyInA.Count == 0 && ValuesOnlyInB.Count == 0 && ValuesChanged.Count == 0;
    }

    internal static Report Compare(Checkpoint a, Checkpoint b)
    {
        var changed = new List<(TensorInfo, TensorInfo, double?)>();
        var common = new List<TensorDiff>();
        foreach (var (key, left) in a.Tensors)
        {
            if (!b.Tensors.TryGetValue(key, out var right))
            {
                continue;
            }
            bool sameShape = left.Shape.SequenceEqual(right.Shape);
            var bytesA = a.ReadBytes(key);
            var bytesB = b.ReadBytes(key);
            double? diff = sameShape && IsFloat(left.DType) && IsFloat(right.DType) ? MaxAbsDiff(left.DType, bytesA.Span, right.DType, bytesB.Span) : null;
            if (left.DType != right.DType || !sameShape)
            {
                changed.Add((left, right, diff));
                continue;
            }
            common.Add(new TensorDiff(key, bytesA.Span.SequenceEqual(bytesB.Span), diff));
        }
        return new Report(a, b,
            a.Tensors.Values.Where(t => !b.Tensors.ContainsKey(t.Key)).ToList(),
            b.Tensors.Values.Where(t => !a.Tensors.ContainsKey(t.Key)).ToList(),
            changed, common,
            a.Values.Keys.Where(k => !b.Values.ContainsKey(k)).ToList(),
            b.Values.Keys.Where(k => !a.Values.ContainsKey(k)).ToList(),
            a.Values.Keys.Where(k => b.Values.TryGetValue(k, out var other) && !SameValue(a.Values[k], other)).ToList());
    }

    private static bool IsFloat(DType dtype) => dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16 or DType.Float8E4M3FN or DType.Float8E5M2;

    /// <summary>max |a - b| over elements; NaN where exactly one side is NaN; equal NaNs and equal infinities count as 0.</summary>
    private static double MaxAbsDiff(DType dtypeA, ReadOnlySpan<byte> a, DType dtypeB, ReadOnlySpan<byte> b)
    {
        int count = a.Length / dtypeA.ElementSize();
        double max = 0;
        for (int i = 0; i < count; i++)
        {
            double x = Element(dtypeA, a, i), y = Element(dtypeB, b, i);
            if (x == y || (double.IsNaN(x) && double.IsNaN(y)))
            {
                continue;
            }
            double d = Math.Abs(x - y);
            if (double.IsNaN(d))
            {
                return double.NaN;
            }
            max = Math.Max(max, d);
        }
        return max;
    }

    private static double Element(DType dtype, ReadOnlySpan<byte> bytes, int i) => dtype switch
    {
        DType.Float32 => MemoryMarshal.Cast<byte, float>(bytes)[i],
        DType.Float64 => MemoryMarshal.Cast<byte, double>(bytes)[i],
        DType.Float16 => (double)MemoryMarshal.Cast<byte, Half>(bytes)[i],
        DType.BFloat16 => (float)MemoryMarshal.Cast<byte, BFloat16>(bytes)[i],
        DType.Float8E4M3FN => (float)new Float8E4M3FN(bytes[i]),
        DType.Float8E5M2 => (float)new Float8E5M2(bytes[i]),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static bool SameValue(object? x, object? y) => (x, y) switch
    {
        (byte[] p, byte[] q) => p.AsSpan().SequenceEqual(q),
        (double p, double q) => p.Equals(q),
        _ => Equals(x, y),
    };

    private static string Describe(TensorInfo t) => $"{t.DType.Name()} [{string.Join(", ", t.Shape)}]";

    private static string Number(double? value) => value switch
    {
        null => "",
        double d when double.IsNaN(d) => "nan",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
    };

    private static void WriteText(TextWriter output, Report report)
    {
        output.WriteLine($"A: {report.A.Path} ({report.A.Format.ToString().ToLowerInvariant()}), {report.A.Tensors.Count} tensors, {report.A.Values.Count} values");
        output.WriteLine($"B: {report.B.Path} ({report.B.Format.ToString().ToLowerInvariant()}), {report.B.Tensors.Count} tensors, {report.B.Values.Count} values");
        Section(output, "only in A", report.OnlyInA.Select(t => $"{t.Key}  {Describe(t)}").Concat(report.ValuesOnlyInA.Select(k => $"{k} = {JsonValues.Display(report.A.Values[k])}")));
        Section(output, "only in B", report.OnlyInB.Select(t => $"{t.Key}  {Describe(t)}").Concat(report.ValuesOnlyInB.Select(k => $"{k} = {JsonValues.Display(report.B.Values[k])}")));
        Section(output, "dtype or shape changed", report.Changed.Select(c =>
            $"{c.A.Key}  {Describe(c.A)} -> {Describe(c.B)}{(c.MaxAbsDiff is null ? "" : $"  max |a-b| {Number(c.MaxAbsDiff)}")}"));
        Section(output, "tensors that differ", report.Common.Where(t => !t.Equal).Select(t =>
            $"{t.Key}  {(t.MaxAbsDiff is null ? "bytes differ" : $"max |a-b| {Number(t.MaxAbsDiff)}")}"));
        Section(output, "values that differ", report.ValuesChanged.Select(k => $"{k}  {JsonValues.Display(report.A.Values[k])} -> {JsonValues.Display(report.B.Values[k])}"));
        output.WriteLine();
        int equal = report.Common.Count(t => t.Equal);
        output.WriteLine(report.Identical
            ? $"identical: {equal} tensors and {report.A.Values.Count} values, byte for byte"
            : $"different: {equal} of {report.Common.Count + report.Changed.Count} common tensors equal, {report.OnlyInA.Count + report.ValuesOnlyInA.Count} keys only in A, {report.OnlyInB.Count + report.ValuesOnlyInB.Count} only in B");
    }

    private static void Section(TextWriter output, string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        if (list.Count == 0)
        {
            return;
        }
        output.WriteLine();
        output.WriteLine($"{title} ({list.Count}):");
        foreach (var line in list)
        {
            output.WriteLine($"  {line}");
        }
    }

    private static void WriteJson(TextWriter output, Report report)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("a", report.A.Path);
            writer.WriteString("b", report.B.Path);
            writer.WriteBoolean("identical", report.Identical);
            WriteTensors(writer, "only_in_a", report.OnlyInA);
            WriteTensors(writer, "only_in_b", report.OnlyInB);
            writer.WriteStartArray("changed");
            foreach (var (left, right, diff) in report.Changed)
            {
                writer.WriteStartObject();
                writer.WriteString("key", left.Key);
                WriteKind(writer, "a", left);
                WriteKind(writer, "b", right);
                WriteDiff(writer, diff);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("tensors");
            foreach (var tensor in report.Common)
            {
                writer.WriteStartObject();
                writer.WriteString("key", tensor.Key);
                writer.WriteBoolean("equal", tensor.Equal);
                WriteDiff(writer, tensor.MaxAbsDiff);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartObject("values");
            WriteValues(writer, "only_in_a", report.ValuesOnlyInA, report.A.Values);
            WriteValues(writer, "only_in_b", report.ValuesOnlyInB, report.B.Values);
            writer.WriteStartArray("changed");
            foreach (var key in report.ValuesChanged)
            {
                writer.WriteStartObject();
                writer.WriteString("key", key);
                writer.WritePropertyName("a");
                JsonValues.Write(writer, report.A.Values[key]);
                writer.WritePropertyName("b");
                JsonValues.Write(writer, report.B.Values[key]);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteTensors(Utf8JsonWriter writer, string name, List<TensorInfo> tensors)
    {
        writer.WriteStartArray(name);
        foreach (var tensor in tensors)
        {
            writer.WriteStartObject();
            writer.WriteString("key", tensor.Key);
            writer.WriteString("dtype", tensor.DType.Name());
            JsonValues.WriteShape(writer, "shape", tensor.Shape);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WriteKind(Utf8JsonWriter writer, string name, TensorInfo tensor)
    {
        writer.WriteStartObject(name);
        writer.WriteString("dtype", tensor.DType.Name());
        JsonValues.WriteShape(writer, "shape", tensor.Shape);
        writer.WriteEndObject();
    }

    /// <summary>max_abs_diff: a number, "nan" when only one side is NaN, null when not floating-point (or shapes differ).</summary>
    private static void WriteDiff(Utf8JsonWriter writer, double? diff)
    {
        if (diff is null)
        {
            writer.WriteNull("max_abs_diff");
        }
        else if (double.IsNaN(diff.Value))
        {
            writer.WriteString("max_abs_diff", "nan");
        }
        else
        {
            writer.WriteNumber("max_abs_diff", diff.Value);
        }
    }

    private static void WriteValues(Utf8JsonWriter writer, string name, List<string> keys, IReadOnlyDictionary<string, object?> values)
    {
        writer.WriteStartObject(name);
        foreach (var key in keys)
        {
            writer.WritePropertyName(key);
            JsonValues.Write(writer, values[key]);
        }
        writer.WriteEndObject();
    }
}
