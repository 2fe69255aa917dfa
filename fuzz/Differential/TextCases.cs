using System.Text;

namespace StateDict.Fuzz.Differential;

/// <summary>
/// Protocol-0 text arguments built from the fragments CPython's parsers treat specially (whitespace, signs, base
/// prefixes, underscores, leading zeros, NULs, exponents, inf/nan, escapes, non-ASCII bytes), deterministically from a
/// seed. Byte mutations rarely produce these, and each is a place where our reading could differ from CPython's
/// <c>strtol</c>, <c>int(text, 0)</c>, <c>PyOS_string_to_double</c>, <c>PyBytes_DecodeEscape</c> or raw-unicode-escape.
/// Every case comes twice: the value alone (compared as data), and the value followed by <c>os.system</c> (a refusal of
/// ours that CPython does not share must not hide the global).
/// </summary>
internal static class TextCases
{
    private static readonly string[] NumberFragments =
    [
        "", " ", "\t", "\r", "\v", "\f", "\0", "+", "-", "0", "00", "1", "7", "8", "9", "01", "10", "0x", "0X", "0o", "0O",
        "0b", "0B", "_", "__", "1_0", "f", "F", "a", "z", "e", "E", "e5", "e-5", "E+308", "e309", "e-400", ".", ".5", "5.",
        "inf", "INF", "nan", "NaN", "Infinity", "infinit", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "7fffffffffffffff", "L", "l", "\u00e9", "\u0663", "1" + new string('0', 40),
    ];

    private static readonly string[] StringFragments =
    [
        "a", "\\", "\\\\", "\\n", "\\t", "\\a", "\\b", "\\f", "\\v", "\\r", "\\'", "\\\"", "\\0", "\\7", "\\08", "\\101",
        "\\377", "\\400", "\\777", "\\x", "\\x4", "\\x41", "\\xg1", "\\q", "\\u0041", "\\U0001F600", "\\ud800", "\\udc00",
        "\\U00110000", "\\u12", "'", "\"", "\0", "\r", "\u00e9", "\u20ac", "\\N{DASH}",
    ];

    private static readonly byte[] NumberOpcodes = "ILFgp"u8.ToArray();

    public static IEnumerable<byte[]> Generate(int seed, int count)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            bool number = random.Next(3) != 0;
            var fragments = number ? NumberFragments : StringFragments;
            var text = new StringBuilder();
            for (int n = random.Next(1, 5); n > 0; n--)
            {
                text.Append(fragments[random.Next(fragments.Length)]);
            }
            byte[] line = Encoding.UTF8.GetBytes(text.ToString());
            byte[] value = number ? NumberCase(NumberOpcodes[random.Next(NumberOpcodes.Length)], line) : StringCase(random.Next(3), line);
            yield return [.. value, (byte)'.'];
            yield return [.. value, (byte)'0', .. "cos\nsystem\n."u8];
        }
    }

    /// <summary>INT, LONG, FLOAT: the line itself; GET: a memo slot set at index 10, then read by the line's index;
    /// PUT: the line's index set, then read back at 10 (both equal only when the line reads as 10).</summary>
    private static byte[] NumberCase(byte opcode, byte[] line) => opcode switch
    {
        (byte)'g' => [.. "N0p10\n0g"u8, .. line, (byte)'\n'],
        (byte)'p' => [.. "Np"u8, .. line, .. "\n0g10\n"u8],
        _ => [opcode, .. line, (byte)'\n'],
    };

    /// <summary>STRING (quoted either way) or UNICODE, with the fragments as the argument.</summary>
    private static byte[] StringCase(int form, byte[] line) => form switch
    {
        0 => [(byte)'S', (byte)'\'', .. line, (byte)'\'', (byte)'\n'],
        1 => [(byte)'S', (byte)'"', .. line, (byte)'"', (byte)'\n'],
        _ => [(byte)'V', .. line, (byte)'\n'],
    };
}
