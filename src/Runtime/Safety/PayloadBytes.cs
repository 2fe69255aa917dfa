using System.Text;
using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Safety;

/// <summary>
/// The bytes a "bytes in, object out" global (<c>torch.storage._load_from_bytes</c>) would receive from a pickle,
/// computed exactly as Python computes them, without running anything: a bytes or bytearray object;
/// <c>_codecs.encode(str[, encoding[, errors]])</c> for the codecs Python would accept here (latin-1, ascii, utf-8,
/// utf-16-le/be, utf-32-le/be under any of their aliases, with the strict, ignore, replace, surrogateescape and
/// surrogatepass handlers); <c>builtins.bytearray()</c> of nothing, a size, bytes, a list or tuple of ints, or a str with
/// an encoding. Any other argument cannot be reduced: then nobody can say what Python would unpickle, and the caller
/// must treat the call as unsafe. Both the reader (<c>EmbeddedPayload</c>) and the scanner use this one reduction.
/// </summary>
internal static class PayloadBytes
{
    private const int MaxDepth = 8;

    /// <summary>The bytes <paramref name="argument"/> stands for, or null with <paramref name="why"/> saying why it cannot be reduced.</summary>
    public static byte[]? Reduce(object argument, long budget, out string why) => Reduce(argument, budget, 0, out why);

    private static byte[]? Reduce(object argument, long budget, int depth, out string why)
    {
        why = "";
        if (depth > MaxDepth)
        {
            why = $"bytes built from bytes more than {MaxDepth} calls deep";
            return null;
        }
        switch (argument)
        {
            case PyBytes bytes:
                return bytes.Data;
            case PyCall { Kind: not CallKind.NewObj, Global.FullName: AllowList.CodecsEncode, Kwargs: null } call:
                return call.Args.Items switch
                {
                    [string text] => Encode(text, "utf-8", "strict", out why),
                    [string text, string encoding] => Encode(text, encoding, "strict", out why),
                    [string text, string encoding, string errors] => Encode(text, encoding, errors, out why),
                    var args => Fail($"_codecs.encode({Types(args)}) is not str.encode", out why),
                };
            case PyCall { Kind: not CallKind.NewObj, Global.FullName: AllowList.ByteArray, Kwargs: null } call:
                return call.Args.Items switch
                {
                    [] => [],
                    [long size] when size >= 0 && size <= budget => new byte[size],
                    [long size] => Fail($"bytearray({size}) is over the budget of {budget} bytes", out why),
                    [PyBytes bytes] => bytes.Data,
                    [PyList list] => FromInts(list.Items, budget, out why),
                    [PyTuple tuple] => FromInts(tuple.Items, budget, out why),
                    [string text, string encoding] => Encode(text, encoding, "strict", out why),
                    [string text, string encoding, string errors] => Encode(text, encoding, errors, out why),
                    [PyCall inner] => Reduce(inner, budget, depth + 1, out why) is { } bytes ? bytes : null,
                    var args => Fail($"bytearray({Types(args)}) is not a form this reader reduces", out why),
                };
            default:
                return Fail($"a {PyValue.TypeName(argument)} is not bytes", out why);
        }
    }

    private static byte[]? FromInts(IReadOnlyList<object> items, long budget, out string why)
    {
        why = "";
        if (items.Count > budget)
        {
            return Fail($"bytearray of {items.Count} ints is over the budget of {budget} bytes", out why);
        }
        var bytes = new byte[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is not long value || value is < 0 or > 255)
            {
                // bool is an int to Python, but the VM keeps it apart: refuse rather than guess.
                return Fail($"item {i} of the bytearray list is {Describe(items[i])}, not an int in 0..255", out why);
            }
            bytes[i] = (byte)value;
        }
        return bytes;
    }

    private static string Describe(object value) => value is long l ? l.ToString(System.Globalization.CultureInfo.InvariantCulture) : "a " + PyValue.TypeName(value);

    private static string Types(ArraySegment<object> args) => string.Join(", ", args.Select(PyValue.TypeName));

    private static byte[]? Fail(string problem, out string why)
    {
        why = problem;
        return null;
    }

    /// <summary><c>str.encode(encoding, errors)</c> for the codecs and error handlers this reader knows, as CPython does it.</summary>
    private static byte[]? Encode(string text, string encoding, string errors, out string why)
    {
        why = "";
        var codec = PythonCodecs.Lookup(encoding);
        if (codec is null)
        {
            return Fail($"the codec '{encoding}' is not one this reader reproduces", out why);
        }
        if (errors is not ("strict" or "ignore" or "replace" or "surrogateescape" or "surrogatepass"))
        {
            return Fail($"the error handler '{errors}' is not one this reader reproduces", out why);
        }
        var output = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }
            if (codec.Value.Accepts(cp))
            {
                codec.Value.Write(cp, output);
                continue;
            }
            bool surrogate = cp is >= 0xD800 and <= 0xDFFF;
            switch (errors)
            {
                case "ignore":
                    break;
                case "replace":
                    codec.Value.Write('?', output);
                    break;
                case "surrogateescape" when cp is >= 0xDC80 and <= 0xDCFF && codec.Value.Unit == 1:
                    output.Add((byte)(cp - 0xDC00));
                    break;
                case "surrogatepass" when surrogate && codec.Value.Name != "latin-1" && codec.Value.Name != "ascii":
                    codec.Value.Write(cp, output);
                    break;
                default:
                    return Fail($"'{codec.Value.Name}' cannot encode U+{cp:X4} with errors='{errors}' (Python raises UnicodeEncodeError)", out why);
            }
        }
        return [.. output];
    }
}
