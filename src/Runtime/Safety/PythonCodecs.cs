using System.Buffers.Binary;
using System.Text;

namespace StateDict.Safety;

/// <summary>
/// The few Python codecs whose output <see cref="PayloadBytes"/> reproduces, found by name as Python's
/// <c>codecs.lookup</c> finds them: lower-cased, every run of characters other than ASCII letters, digits and '.'
/// collapsed to '_' (encodings.normalize_encoding), then the alias table of <c>encodings.aliases</c>. Codecs whose
/// output depends on the machine (<c>utf-16</c>/<c>utf-32</c> with a native-order BOM) are deliberately absent.
/// </summary>
internal readonly record struct PythonCodec(string Name, int Unit, int Limit, bool BigEndian)
{
    /// <summary>Whether the codec encodes <paramref name="cp"/> without an error handler (never a lone surrogate).</summary>
    public bool Accepts(int cp) => cp < Limit && cp is < 0xD800 or > 0xDFFF;

    /// <summary>Writes one code point (surrogates too: for surrogatepass).</summary>
    public void Write(int cp, List<byte> output)
    {
        switch (Unit)
        {
            case 1:
                output.Add((byte)cp);
                break;
            case 8:
                Span<byte> utf8 = stackalloc byte[4];
                int n = cp switch { < 0x80 => 1, < 0x800 => 2, < 0x10000 => 3, _ => 4 };
                if (n == 1)
                {
                    utf8[0] = (byte)cp;
                }
                else
                {
                    utf8[0] = (byte)((0xF00 >> n) | (cp >> (6 * (n - 1))));
                    for (int k = 1; k < n; k++)
                    {
                        utf8[k] = (byte)(0x80 | ((cp >> (6 * (n - 1 - k))) & 0x3F));
                    }
                }
                output.AddRange(utf8[..n]);
                break;
            case 2 when cp >= 0x10000:
                Write(0xD800 + ((cp - 0x10000) >> 10), output);
                Write(0xDC00 + ((cp - 0x10000) & 0x3FF), output);
                break;
            default:
                Span<byte> unit = stackalloc byte[4];
                if (BigEndian)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(unit, (uint)cp);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(unit, (uint)cp);
                }
                output.AddRange(Unit == 4 ? unit : BigEndian ? unit[2..] : unit[..2]);
                break;
        }
    }
}

/// <summary>Python's codec lookup, for the codecs in <see cref="PythonCodec"/>.</summary>
internal static class PythonCodecs
{
    private static readonly PythonCodec Latin1 = new("latin-1", 1, 0x100, false);
    private static readonly PythonCodec Ascii = new("ascii", 1, 0x80, false);

    // The codec modules of Python's encodings package, by module name.
    private static readonly Dictionary<string, PythonCodec> Modules = new(StringComparer.Ordinal)
    {
        ["latin_1"] = Latin1,
        ["ascii"] = Ascii,
        ["utf_8"] = new("utf-8", 8, 0x110000, false),
        ["utf_16_le"] = new("utf-16-le", 2, 0x110000, false),
        ["utf_16_be"] = new("utf-16-be", 2, 0x110000, true),
        ["utf_32_le"] = new("utf-32-le", 4, 0x110000, false),
        ["utf_32_be"] = new("utf-32-be", 4, 0x110000, true),
    };

    // encodings.aliases (CPython 3.11) that lead to those modules.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["8859"] = "latin_1", ["cp819"] = "latin_1", ["csisolatin1"] = "latin_1", ["ibm819"] = "latin_1", ["iso8859"] = "latin_1",
        ["iso8859_1"] = "latin_1", ["iso_8859_1"] = "latin_1", ["iso_8859_1_1987"] = "latin_1", ["iso_ir_100"] = "latin_1",
        ["l1"] = "latin_1", ["latin"] = "latin_1", ["latin1"] = "latin_1",
        ["646"] = "ascii", ["ansi_x3.4_1968"] = "ascii", ["ansi_x3.4_1986"] = "ascii", ["ansi_x3_4_1968"] = "ascii", ["cp367"] = "ascii",
        ["csascii"] = "ascii", ["ibm367"] = "ascii", ["iso646_us"] = "ascii", ["iso_646.irv_1991"] = "ascii", ["iso_ir_6"] = "ascii",
        ["us"] = "ascii", ["us_ascii"] = "ascii",
        ["cp65001"] = "utf_8", ["u8"] = "utf_8", ["utf"] = "utf_8", ["utf8"] = "utf_8", ["utf8_ucs2"] = "utf_8", ["utf8_ucs4"] = "utf_8",
        ["utf_16le"] = "utf_16_le", ["unicodelittleunmarked"] = "utf_16_le", ["utf_16be"] = "utf_16_be", ["unicodebigunmarked"] = "utf_16_be",
        ["utf_32le"] = "utf_32_le", ["utf_32be"] = "utf_32_be",
    };

    /// <summary>encodings.search_function: an alias (also with '.' read as '_'), else the module of that exact name.</summary>
    public static PythonCodec? Lookup(string encoding)
    {
        if (encoding.Contains('\0', StringComparison.Ordinal))
        {
            return null; // Python: "embedded null character".
        }
        string normalized = Normalize(encoding);
        string module = Aliases.GetValueOrDefault(normalized) ?? Aliases.GetValueOrDefault(normalized.Replace('.', '_')) ?? normalized;
        return Modules.TryGetValue(module, out var codec) ? codec : null;
    }

    /// <summary>encodings.normalize_encoding after codecs' lower-casing: runs of other characters become one '_', non-ASCII letters vanish.</summary>
    private static string Normalize(string encoding)
    {
        var builder = new StringBuilder(encoding.Length);
        bool punctuation = false;
        foreach (char c in encoding)
        {
            if (char.IsLetterOrDigit(c) || c == '.')
            {
                if (punctuation && builder.Length > 0)
                {
                    builder.Append('_');
                }
                if (char.IsAscii(c))
                {
                    builder.Append(char.ToLowerInvariant(c));
                }
                punctuation = false;
            }
            else
            {
                punctuation = true;
            }
        }
        return builder.ToString();
    }
}
