namespace StateDict.Cli;

/// <summary>A plain aligned text table for terminals.</summary>
internal static class TextTable
{
    public static void Write(TextWriter output, string[] header, IReadOnlyList<string[]> rows, int rightAligned)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        WriteRow(output, header, widths, rightAligned);
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            WriteRow(output, row, widths, rightAligned);
        }
    }

    private static void WriteRow(TextWriter output, string[] cells, int[] widths, int rightAligned)
    {
        var padded = cells.Select((c, i) => i == rightAligned ? c.PadLeft(widths[i]) : c.PadRight(widths[i]));
        output.WriteLine(string.Join("  ", padded).TrimEnd());
    }
}
