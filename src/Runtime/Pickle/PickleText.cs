using System.Runtime.CompilerServices;
using System.Text;

namespace StateDict.Pickle;

/// <summary>The text and string arguments of pickle opcodes (GLOBAL, INST, PERSID, STRING, UNICODE, BIN*UNICODE, BINSTRING); numbers are in <see cref="PickleNumbers"/>.</summary>
internal static class PickleText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// GLOBAL's module and name lines: UTF-8, strict, as CPython's <c>load_global</c> decodes them (only the '\n' is
    /// stripped, so a '\r' is part of the name); an empty line is CPython's "pickle data was truncated".
    /// </summary>
    public static string GlobalLine(ReadOnlySpan<byte> line, string what, int at, PickleSource src) =>
        line.IsEmpty ? throw src.Corrupt(at, $"{what} is an empty line") : Utf8Strict(line, at, src);

    /// <summary>INST's and PERSID's lines: ASCII, strict, as CPython decodes them; INST's may not be empty.</summary>
    public static string Ascii(ReadOnlySpan<byte> line, int at, PickleSource src)
    {
        foreach (byte b in line)
        {
            if (b >= 0x80)
            {
                throw src.Corrupt(at, "text argument is not ASCII");
            }
        }
        return Encoding.ASCII.GetString(line);
    }

    /// <summary>
    /// BINUNICODE, SHORT_BINUNICODE, BINUNICODE8: UTF-8 decoded as CPython's unpickler does, with <c>surrogatepass</c>:
    /// a surrogate encoded on its own (ED A0..BF xx) is a character; anything else that is not UTF-8 is refused.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Utf8SurrogatePass(ReadOnlySpan<byte> bytes, int at, PickleSource src)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // Rare: decode again, taking each encoded surrogate out of the strict decoding.
        }
        var text = new StringBuilder(bytes.Length);
        int start = 0;
        for (int i = 0; i + 2 < bytes.Length; i++)
        {
            if (bytes[i] == 0xED && bytes[i + 1] is >= 0xA0 and <= 0xBF && (bytes[i + 2] & 0xC0) == 0x80)
            {
                text.Append(Utf8Strict(bytes[start..i], at, src));
                text.Append((char)(0xD000 | ((bytes[i + 1] & 0x3F) << 6) | (bytes[i + 2] & 0x3F)));
                i += 2;
                start = i + 1;
            }
        }
        return text.Append(Utf8Strict(bytes[start..], at, src)).ToString();
    }

    /// <summary>BINSTRING, SHORT_BINSTRING: UTF-8 without exceptions (torch.load unpickles with <c>encoding='utf-8'</c>, strict).</summary>
    public static string Utf8Strict(ReadOnlySpan<byte> bytes, int at, PickleSource src)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw src.Corrupt(at, "string is not valid UTF-8");
        }
    }

    /// <summary>
    /// STRING: a Python 2 repr, quoted with ' or ", unescaped as CPython's <c>PyBytes_DecodeEscape</c> does (\a \b \f \n
    /// \r \t \v, octal \NNN, \xHH; an unknown escape stays as written), then UTF-8, strict, as for BINSTRING
    /// (torch.load unpickles with <c>encoding='utf-8'</c>).
    /// </summary>
    public static string QuotedString(ReadOnlySpan<byte> line, int at, PickleSource src)
    {
        if (line.Length < 2 || line[0] != line[^1] || (line[0] != (byte)'\'' && line[0] != (byte)'"'))
        {
            throw src.Corrupt(at, "STRING argument is not quoted");
        }
        var body = line[1..^1];
        var bytes = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            byte b = body[i];
            if (b != (byte)'\\')
            {
                bytes.Add(b);
                continue;
            }
            if (++i >= body.Length)
            {
                throw src.Corrupt(at, "STRING ends with a lone backslash");
            }
            switch ((char)body[i])
            {
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'': bytes.Add((byte)'\''); break;
                case '"': bytes.Add((byte)'"'); break;
                case 'a': bytes.Add(0x07); break;
                case 'b': bytes.Add(0x08); break;
                case 'f': bytes.Add(0x0C); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'v': bytes.Add(0x0B); break;
                case >= '0' and <= '7':
                    int code = body[i] - '0';
                    for (int more = 0; more < 2 && i + 1 < body.Length && body[i + 1] is >= (byte)'0' and <= (byte)'7'; more++)
                    {
                        code = (code << 3) + body[++i] - '0';
                    }
                    bytes.Add(unchecked((byte)code)); // CPython keeps the low byte of \400..\777 (with a warning)
                    break;
                case 'x':
                    if (i + 2 >= body.Length || PickleNumbers.DigitValue(body[i + 1]) >= 16 || PickleNumbers.DigitValue(body[i + 2]) >= 16)
                    {
                        throw src.Corrupt(at, "STRING has an invalid \\x escape");
                    }
                    bytes.Add((byte)((PickleNumbers.DigitValue(body[i + 1]) << 4) + PickleNumbers.DigitValue(body[i + 2])));
                    i += 2;
                    break;
                default:
                    bytes.Add((byte)'\\');
                    bytes.Add(body[i]);
                    break;
            }
        }
        try
        {
            return StrictUtf8.GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            throw src.Corrupt(at, "STRING is not valid UTF-8");
        }
    }

    /// <summary>
    /// UNICODE: raw-unicode-escape, i.e. Latin-1 in which \uXXXX and \UXXXXXXXX are escapes when an odd number of
    /// backslashes leads them (CPython's rule); an escaped surrogate is kept as a lone UTF-16 surrogate.
    /// </summary>
    public static string RawUnicodeEscape(ReadOnlySpan<byte> line, int at, PickleSource src)
    {
        var text = new StringBuilder(line.Length);
        int i = 0;
        while (i < line.Length)
        {
            if (line[i] != (byte)'\\')
            {
                text.Append((char)line[i++]);
                continue;
            }
            int run = i;
            while (i < line.Length && line[i] == (byte)'\\')
            {
                text.Append('\\');
                i++;
            }
            if (((i - run) & 1) == 0 || i >= line.Length || line[i] is not ((byte)'u' or (byte)'U'))
            {
                continue;
            }
            text.Length--; // the escape's own backslash
            int digits = line[i++] == (byte)'u' ? 4 : 8;
            long code = 0;
            for (; digits > 0; digits--, i++)
            {
                if (i >= line.Length || PickleNumbers.DigitValue(line[i]) >= 16)
                {
                    throw src.Corrupt(at, "UNICODE has a truncated \\uXXXX escape");
                }
                code = (code << 4) + PickleNumbers.DigitValue(line[i]);
            }
            if (code > 0x10FFFF)
            {
                throw src.Corrupt(at, "UNICODE has a \\Uxxxxxxxx escape out of range");
            }
            text.Append(code <= 0xFFFF ? ((char)code).ToString() : char.ConvertFromUtf32((int)code));
        }
        return text.ToString();
    }
}
