using System.Runtime.CompilerServices;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace StateDict.Pickle;

/// <summary>The text arguments of protocol-0 opcodes (INT, LONG, FLOAT, STRING, UNICODE, GET/PUT, GLOBAL).</summary>
internal static class PickleText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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
    /// INT ("I01" is True, "I00" False) and LONG ("L123L") arguments, as decimal text. CPython parses INT with C's
    /// <c>strtol</c> in base 0 (so "I0011" is octal 9 there) and LONG in Python's base 0 (where "0011" is an error): a
    /// leading zero before other digits is refused rather than read as something else.
    /// </summary>
    public static object ParseIntLine(ReadOnlySpan<byte> line, bool allowBool, int at, PickleSource src, CheckpointLimits limits)
    {
        if (!allowBool && line.Length > 0 && line[^1] == (byte)'L')
        {
            line = line[..^1];
        }
        var digits = line.Length > 0 && line[0] is (byte)'+' or (byte)'-' ? line[1..] : line;
        if (digits.Length > 1 && digits[0] == (byte)'0' && !(allowBool && line.Length == 2 && line[0] == (byte)'0'))
        {
            throw src.Corrupt(at, "integer text with a leading zero (Python reads it in another base, or refuses it)");
        }
        // Decimal parsing is superlinear in the digit count: bound it like Python's int_max_str_digits.
        int maxDigits = (int)Math.Min(4300, limits.MaxIntegerBytes * 2.5 + 2);
        if (line.Length == 0 || line.Length > maxDigits)
        {
            throw src.Corrupt(at, line.Length == 0 ? "empty integer" : $"integer text of {line.Length} digits exceeds the budget of {maxDigits}");
        }
        if (!BigInteger.TryParse(Ascii(line, at, src), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw src.Corrupt(at, "malformed integer text");
        }
        if (allowBool && line.Length == 2 && (value.IsZero || value.IsOne))
        {
            return value.IsOne; // CPython: a two-character INT worth 0 or 1 ("00", "01", "+1", "-0") is a bool.
        }
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    /// <summary>FLOAT text, as Python's <c>float()</c> reads it (nan and inf in any case, with a sign; NaN's sign bit as Python sets it).</summary>
    public static double ParseFloatLine(ReadOnlySpan<byte> line, int at, PickleSource src)
    {
        var text = Ascii(line, at, src);
        return text.ToLowerInvariant() switch
        {
            "nan" or "+nan" => BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000), // .NET's double.NaN has the sign bit set
            "-nan" => BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_0000_0000)),
            "inf" or "+inf" or "infinity" or "+infinity" => double.PositiveInfinity,
            "-inf" or "-infinity" => double.NegativeInfinity,
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && !double.IsNaN(d) => d,
            _ => throw src.Corrupt(at, "malformed float text"),
        };
    }

    public static long ParseMemoIndex(ReadOnlySpan<byte> line, int at, PickleSource src)
    {
        if (line.Length is 0 or > 10 || !long.TryParse(Ascii(line, at, src), NumberStyles.None, CultureInfo.InvariantCulture, out long index))
        {
            throw src.Corrupt(at, "malformed memo index");
        }
        return index;
    }

    /// <summary>
    /// STRING: a Python 2 repr, quoted with ' or ", with backslash escapes. The unescaped bytes are UTF-8, as for
    /// BINSTRING (torch.load unpickles with <c>encoding='utf-8'</c>).
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
                throw src.Corrupt(at, "STRING ends inside an escape");
            }
            switch ((char)body[i])
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'': bytes.Add((byte)'\''); break;
                case '"': bytes.Add((byte)'"'); break;
                case 'x':
                    if (i + 2 >= body.Length)
                    {
                        throw src.Corrupt(at, "STRING has a truncated \\x escape");
                    }
                    bytes.Add(Hex(body.Slice(i + 1, 2), at, src));
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

    /// <summary>UNICODE: raw-unicode-escape, i.e. Latin-1 with \uXXXX and \UXXXXXXXX escapes.</summary>
    public static string RawUnicodeEscape(ReadOnlySpan<byte> line, int at, PickleSource src)
    {
        var text = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            int digits = line[i] == (byte)'\\' && i + 1 < line.Length ? line[i + 1] switch
            {
                (byte)'u' => 4,
                (byte)'U' => 8,
                _ => 0,
            } : 0;
            if (digits == 0)
            {
                text.Append((char)line[i]);
                continue;
            }
            if (i + 2 + digits > line.Length)
            {
                throw src.Corrupt(at, "UNICODE has a truncated escape");
            }
            if (!int.TryParse(Ascii(line.Slice(i + 2, digits), at, src), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
                || code < 0 || code > 0x10FFFF)
            {
                throw src.Corrupt(at, "UNICODE has a malformed escape");
            }
            text.Append(char.ConvertFromUtf32(code is >= 0xD800 and <= 0xDFFF ? 0xFFFD : code));
            i += 1 + digits;
        }
        return text.ToString();
    }

    private static byte Hex(ReadOnlySpan<byte> digits, int at, PickleSource src) =>
        byte.TryParse(Ascii(digits, at, src), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b)
            ? b
            : throw src.Corrupt(at, "STRING has a malformed \\x escape");
}
