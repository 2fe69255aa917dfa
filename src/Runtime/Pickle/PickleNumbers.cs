using System.Globalization;
using System.Numerics;
using System.Text;

namespace StateDict.Pickle;

/// <summary>
/// The text numbers of protocol 0 (INT, LONG, FLOAT, GET, PUT), read exactly as CPython's C unpickler reads them:
/// INT with C's <c>strtol</c> in base 0, then <c>int(text, 0)</c> when that does not take the whole line; LONG with
/// <c>int(text, 0)</c>; GET/PUT with <c>int(text, 10)</c>; FLOAT with <c>PyOS_string_to_double</c>. CPython's line buffer
/// is a C string, so every parser stops at the first NUL byte of the line.
/// </summary>
internal static class PickleNumbers
{
    /// <summary>Python's <c>sys.int_info.default_max_str_digits</c>: longer decimal text is a ValueError in CPython.</summary>
    private const int MaxDecimalDigits = 4300;

    /// <summary>The outcome of parsing an integer: its value, or that it exceeds the integer budget (CPython reads it).</summary>
    public readonly record struct Parsed(object? Value, int OverBudgetBytes);

    /// <summary>INT: a long or bool, or a BigInteger; null when CPython raises.</summary>
    public static Parsed? Int(ReadOnlySpan<byte> line, int maxIntegerBytes)
    {
        var text = CString(line);
        if (TryStrtolBase0(text, out long value))
        {
            // load_int: a line of two characters (three with its newline) worth 0 or 1 is a bool ("01", "+1", "0\0").
            return new Parsed(line.Length == 2 && value is 0 or 1 ? value == 1 : (object)value, 0);
        }
        return PyLong(text, base10Only: false, maxIntegerBytes);
    }

    /// <summary>LONG: one trailing 'L' (before the newline) is dropped, the rest is <c>int(text, 0)</c>.</summary>
    public static Parsed? Long(ReadOnlySpan<byte> line, int maxIntegerBytes) =>
        PyLong(CString(line.Length > 0 && line[^1] == (byte)'L' ? line[..^1] : line), base10Only: false, maxIntegerBytes);

    /// <summary>GET/PUT: <c>int(text, 10)</c> (whitespace, a sign, underscores and leading zeros are fine); null when CPython raises.</summary>
    public static long? MemoIndex(ReadOnlySpan<byte> line)
    {
        var parsed = PyLong(CString(line), base10Only: true, maxIntegerBytes: 9);
        return parsed is { Value: long index } ? index : null;
    }

    /// <summary>FLOAT: <c>PyOS_string_to_double</c> with OverflowError; null when CPython raises.</summary>
    public static double? Float(ReadOnlySpan<byte> line)
    {
        var text = CString(line);
        int i = text.Length > 0 && text[0] is (byte)'+' or (byte)'-' ? 1 : 0;
        bool negative = i == 1 && text[0] == (byte)'-';
        var word = Encoding.ASCII.GetString(text[i..]).ToLowerInvariant();
        if (word is "inf" or "infinity")
        {
            return negative ? double.NegativeInfinity : double.PositiveInfinity;
        }
        if (word == "nan")
        {
            // _Py_dg_stdnan: the sign bit only for "-nan" (.NET's double.NaN has it set).
            return BitConverter.Int64BitsToDouble(negative ? unchecked((long)0xFFF8_0000_0000_0000) : 0x7FF8_0000_0000_0000);
        }
        if (!IsDecimalFloat(text[i..]))
        {
            return null;
        }
        double d = double.Parse(Encoding.ASCII.GetString(text), NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsInfinity(d) ? null : d; // overflow is an OverflowError; underflow rounds to 0 as in CPython
    }

    /// <summary>_Py_dg_strtod's grammar, with nothing before or after: digits, an optional point, an optional exponent.</summary>
    private static bool IsDecimalFloat(ReadOnlySpan<byte> s)
    {
        int i = 0, mantissa = 0;
        while (i < s.Length && IsDigit(s[i])) { i++; mantissa++; }
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            while (i < s.Length && IsDigit(s[i])) { i++; mantissa++; }
        }
        if (mantissa == 0)
        {
            return false;
        }
        if (i < s.Length && s[i] is (byte)'e' or (byte)'E')
        {
            i++;
            if (i < s.Length && s[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }
            int exponent = 0;
            while (i < s.Length && IsDigit(s[i])) { i++; exponent++; }
            if (exponent == 0)
            {
                return false; // strtod stops before the 'e'; load_float then refuses what is left
            }
        }
        return i == s.Length;
    }

    /// <summary>C's <c>strtol(s, &amp;end, 0)</c> in the C locale, true when it takes the whole text without overflow.</summary>
    private static bool TryStrtolBase0(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        int i = 0;
        bool negative = SpaceAndSign(s, ref i, IsCSpace);
        int radix = 10;
        if (i + 2 < s.Length && s[i] == (byte)'0' && s[i + 1] is (byte)'x' or (byte)'X' && DigitValue(s[i + 2]) < 16)
        {
            radix = 16;
            i += 2;
        }
        else if (i < s.Length && s[i] == (byte)'0')
        {
            radix = 8;
        }
        int first = i;
        UInt128 magnitude = 0;
        while (i < s.Length && DigitValue(s[i]) < radix)
        {
            magnitude = magnitude * (uint)radix + (uint)DigitValue(s[i]);
            if (magnitude > (UInt128)long.MaxValue + 1)
            {
                return false; // ERANGE: load_int falls back to int(text, 0)
            }
            i++;
        }
        if (i == first)
        {
            return s.Length == 0; // no digits: strtol ends where it began, which load_int accepts only at the line's end
        }
        if (i != s.Length || (!negative && magnitude > long.MaxValue))
        {
            return false;
        }
        long v = unchecked((long)(ulong)magnitude);
        value = negative ? unchecked(-v) : v;
        return true;
    }

    /// <summary>
    /// CPython's <c>PyLong_FromString(s, NULL, 0 or 10)</c>: optional whitespace and sign, in base 0 a 0x/0o/0b prefix
    /// (a nonzero decimal may not start with 0), single underscores between digits, trailing whitespace, at most 4300
    /// decimal digits. Null when CPython raises; <see cref="Parsed.OverBudgetBytes"/> set when the value is valid but
    /// wider than <paramref name="maxIntegerBytes"/>.
    /// </summary>
    private static Parsed? PyLong(ReadOnlySpan<byte> s, bool base10Only, int maxIntegerBytes)
    {
        int i = 0;
        bool negative = SpaceAndSign(s, ref i, IsPySpace);
        int radix = 10;
        bool zeroOnly = false;
        if (!base10Only && i < s.Length && s[i] == (byte)'0')
        {
            radix = i + 1 < s.Length ? (char)(s[i + 1] | 0x20) switch { 'x' => 16, 'o' => 8, 'b' => 2, _ => 10 } : 10;
            zeroOnly = radix == 10; // an "old" C-style octal literal is an error unless it is zero
            if (radix != 10)
            {
                i += 2;
                i += i < s.Length && s[i] == (byte)'_' ? 1 : 0; // one underscore may follow the prefix
            }
        }
        if (i < s.Length && s[i] == (byte)'_')
        {
            return null;
        }
        var digits = new StringBuilder();
        bool lastWasUnderscore = false;
        for (; i < s.Length && (DigitValue(s[i]) < radix || s[i] == (byte)'_'); i++)
        {
            if (s[i] == (byte)'_')
            {
                if (lastWasUnderscore)
                {
                    return null;
                }
                lastWasUnderscore = true;
                continue;
            }
            lastWasUnderscore = false;
            digits.Append((char)s[i]);
        }
        if (lastWasUnderscore || digits.Length == 0)
        {
            return null;
        }
        while (i < s.Length && IsPySpace(s[i]))
        {
            i++;
        }
        if (i != s.Length || (radix == 10 && digits.Length > MaxDecimalDigits))
        {
            return null;
        }
        var text = digits.ToString().TrimStart('0');
        if (zeroOnly && text.Length > 0)
        {
            return null;
        }
        // Bound the work by the budget before building the number (decimal parsing is superlinear).
        double bits = text.Length * Math.Log2(radix);
        if (bits > maxIntegerBytes * 8.0)
        {
            return new Parsed(null, (int)Math.Min(int.MaxValue, Math.Ceiling(bits / 8)));
        }
        BigInteger magnitude = BigInteger.Zero;
        foreach (char c in text)
        {
            magnitude = magnitude * radix + DigitValue((byte)c);
        }
        var value = negative ? -magnitude : magnitude;
        return new Parsed(value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value, 0);
    }

    /// <summary>Skips leading whitespace and a sign; true for '-'.</summary>
    private static bool SpaceAndSign(ReadOnlySpan<byte> s, ref int i, Func<byte, bool> isSpace)
    {
        while (i < s.Length && isSpace(s[i]))
        {
            i++;
        }
        return i < s.Length && s[i] is (byte)'+' or (byte)'-' && s[i++] == (byte)'-';
    }

    /// <summary>The line as CPython's C parsers see it: up to its first NUL (CPython's line copy ends with one).</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> line)
    {
        int nul = line.IndexOf((byte)0);
        return nul < 0 ? line : line[..nul];
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    /// <summary>A digit's value in any base up to 36 (C's strtol and Python's int()); 99 for anything else.</summary>
    internal static int DigitValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'z' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'Z' => b - 'A' + 10,
        _ => 99,
    };

    /// <summary>C's isspace in the C locale (the line holds no '\n').</summary>
    private static bool IsCSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>CPython's Py_ISSPACE.</summary>
    private static bool IsPySpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';
}
