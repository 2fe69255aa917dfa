using System.Globalization;
using System.Numerics;
using System.Text;
using StateDict.Pickle;

namespace StateDict.Fuzz.Differential;

/// <summary>
/// The canonical text of a value the pickle VM built, byte for byte what oracle.py's <c>canon()</c> writes for the
/// value CPython's unpickler built: same node budget, depth limit, cycle marker, escaping and ordering.
/// </summary>
internal static class Canon
{
    public const string TooBig = "<too big>";
    private const int MaxNodes = 200_000;
    private const int MaxDepth = 1_100;

    public static string Of(object root)
    {
        var walker = new Walker();
        try
        {
            walker.Walk(root, 0);
            return walker.Out.ToString();
        }
        catch (BudgetException)
        {
            return TooBig;
        }
    }

    /// <summary>A string as oracle.py's <c>text()</c>: printable ASCII as is, every other UTF-16 unit as \uXXXX.</summary>
    /// <summary>
    /// A name with each lone surrogate replaced by U+FFFD, as the oracle reports the names find_class receives (JSON
    /// cannot carry lone surrogates): our VM's names go through this before they are compared with Python's.
    /// </summary>
    public static string Plain(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            bool pair = char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]);
            if (pair)
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }
        return new string(chars);
    }

    public static string Text(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }
        return sb.Append('"').ToString();
    }

    private sealed class BudgetException : Exception;

    private sealed class Walker
    {
        private readonly HashSet<object> _path = new(ReferenceEqualityComparer.Instance);
        private int _count;

        public StringBuilder Out { get; } = new();

        public void Walk(object v, int depth)
        {
            if (++_count > MaxNodes || depth > MaxDepth)
            {
                throw new BudgetException();
            }
            if (v is PyGlobal g)
            {
                Out.Append('G').Append(Text(g.FullName));
                return;
            }
            bool container = v is PyTuple or PyList or PyDict or PySet or PyCall or PyPersistentId;
            if (container && !_path.Add(v))
            {
                Out.Append("<cycle>");
                return;
            }
            try
            {
                Node(v, depth);
            }
            finally
            {
                if (container)
                {
                    _path.Remove(v);
                }
            }
        }

        private void Node(object v, int depth)
        {
            switch (v)
            {
                case PyNone: Out.Append("None"); break;
                case bool b: Out.Append(b ? "True" : "False"); break;
                case long l: Out.Append('i').Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case BigInteger n: Out.Append('i').Append(n.ToString(CultureInfo.InvariantCulture)); break;
                case double d: Out.Append('f').Append(BitConverter.DoubleToInt64Bits(d).ToString("x16", CultureInfo.InvariantCulture)); break;
                case string s: Out.Append(Text(s)); break;
                case PyBytes bytes: Out.Append(bytes.Mutable ? "ba'" : "b'").Append(Convert.ToHexStringLower(bytes.Data)).Append('\''); break;
                case PyTuple t: Out.Append('('); Seq(t.Items, depth); Out.Append(')'); break;
                case PyList list: Out.Append('['); Seq(list.Items, depth); Out.Append(']'); break;
                case PyDict dict: Out.Append('{'); Pairs(dict.Items, depth); Out.Append('}'); break;
                case PySet set: Set(set, depth); break;
                case PyPersistentId pid: Out.Append("P("); Walk(pid.Id, depth + 1); Out.Append(')'); break;
                case PyCall call: Call(call, depth); break;
                default: Out.Append('?').Append(v.GetType().Name); break;
            }
        }

        private void Seq(IReadOnlyList<object> items, int depth)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    Out.Append(',');
                }
                Walk(items[i], depth + 1);
            }
        }

        private void Pairs(List<KeyValuePair<object, object>> pairs, int depth)
        {
            for (int i = 0; i < pairs.Count; i++)
            {
                if (i > 0)
                {
                    Out.Append(',');
                }
                Walk(pairs[i].Key, depth + 1);
                Out.Append(':');
                Walk(pairs[i].Value, depth + 1);
            }
        }

        private void Set(PySet set, int depth)
        {
            // Python prints each item, then sorts the texts (code point order; the texts are ASCII).
            var texts = new List<string>(set.Items.Count);
            foreach (var item in set.Items)
            {
                int mark = Out.Length;
                Walk(item, depth + 1);
                texts.Add(Out.ToString(mark, Out.Length - mark));
                Out.Length = mark;
            }
            texts.Sort(StringComparer.Ordinal);
            Out.Append(set.Frozen ? "frozenset{" : "set{").AppendJoin(',', texts).Append('}');
        }

        private void Call(PyCall call, int depth)
        {
            // CPython: REDUCE and INST/OBJ with arguments call cls(*args) (__new__ then __init__); NEWOBJ and argument-less
            // INST/OBJ on a class call cls.__new__(cls) only.
            bool newOnly = call.Kind == CallKind.NewObj || (call.Kind == CallKind.Instantiate && call.Args.Items.Count == 0 && call.Callable is PyGlobal);
            Out.Append('C').Append(newOnly ? 'N' : 'R').Append('(');
            Walk(call.Callable, depth + 1);
            Out.Append(";(");
            Seq(call.Args.Items, depth);
            Out.Append(')');
            if (call.Kwargs is PyDict { Items.Count: > 0 } kwargs)
            {
                Out.Append(";kw={");
                for (int i = 0; i < kwargs.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        Out.Append(',');
                    }
                    Out.Append(kwargs.Items[i].Key is string k ? Text(k) : "?key");
                    Out.Append(':');
                    Walk(kwargs.Items[i].Value, depth + 1);
                }
                Out.Append('}');
            }
            if (call.States.Count > 0)
            {
                Out.Append(";st=[");
                Seq(call.States, depth);
                Out.Append(']');
            }
            if (call.SetItems.Count > 0)
            {
                Out.Append(";si=[");
                Pairs(call.SetItems, depth);
                Out.Append(']');
            }
            if (call.Appended.Count > 0)
            {
                Out.Append(";ap=[");
                Seq(call.Appended, depth);
                Out.Append(']');
            }
            Out.Append(')');
        }
    }
}
