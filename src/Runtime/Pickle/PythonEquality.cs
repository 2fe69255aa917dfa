using System.Numerics;
using System.Runtime.CompilerServices;

namespace StateDict.Pickle;

/// <summary>
/// Python's <c>==</c> and <c>hash()</c> over the hashable values the VM builds, so dict keys and set items collapse as
/// they do in CPython: <c>True</c>, <c>1</c> and <c>1.0</c> are one key, an int equals a float only when the float is
/// exactly that integer, equal strs, bytes, tuples and frozensets are equal, and everything else (NaN included, calls,
/// persistent ids) is equal only to itself, as the memo shares it. Two GLOBALs of one name are one object in Python
/// (the module's attribute). Hashes are computed without recursion and kept (bottom-up, as CPython's sets keep theirs);
/// comparing tuples or frozensets nested deeper than CPython's recursion limit is refused, as CPython raises there.
/// </summary>
internal sealed class PythonEquality : IEqualityComparer<object>
{
    public static readonly PythonEquality Instance = new();

    /// <summary>How deep tuple and set comparisons may nest: CPython's default recursion limit (RecursionError there).</summary>
    private const int MaxDepth = 1000;

    [ThreadStatic]
    private static int t_depth;

    /// <summary>Thrown when comparing values nested deeper than <see cref="MaxDepth"/>; the VM turns it into a refusal.</summary>
    public sealed class TooDeepException() : Exception("values nested too deeply to compare (CPython raises RecursionError)");

    public new bool Equals(object? x, object? y)
    {
        if (ReferenceEquals(x, y))
        {
            return true; // CPython's PyObject_RichCompareBool: identity first
        }
        if (x is PyTuple or PySet && y is PyTuple or PySet && ++t_depth > MaxDepth)
        {
            t_depth = 0;
            throw new TooDeepException();
        }
        try
        {
            return (x, y) switch
            {
                (PyTuple a, PyTuple b) => a.Items.Count == b.Items.Count && GetHashCode(a) == GetHashCode(b)
                    && a.Items.Zip(b.Items).All(p => Equals(p.First, p.Second)),
                (PySet a, PySet b) => a.Items.Count == b.Items.Count && GetHashCode(a) == GetHashCode(b) && a.Items.All(b.Contains),
                _ => Scalar(x!, y!),
            };
        }
        finally
        {
            if (x is PyTuple or PySet && y is PyTuple or PySet)
            {
                t_depth = Math.Max(0, t_depth - 1);
            }
        }
    }

    public int GetHashCode(object value)
    {
        switch (value)
        {
            case PyTuple tuple:
                return TupleHash(tuple) ?? RuntimeHelpers.GetHashCode(tuple); // keys and items were checked hashable
            case PySet set:
                if (set.HashCode is not { } hash)
                {
                    // Order-free, as frozenset's; computed when the set first goes into another, bottom-up as in CPython.
                    hash = 0x5E7;
                    foreach (var item in set.Items)
                    {
                        hash ^= GetHashCode(item);
                    }
                    set.HashCode = hash;
                }
                return hash;
            default:
                return ScalarHash(value);
        }
    }

    private static bool Scalar(object a, object b) => (a, b) switch
    {
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (PyBytes { Mutable: false } x, PyBytes { Mutable: false } y) => x.Data.AsSpan().SequenceEqual(y.Data),
        (PyGlobal x, PyGlobal y) => x.FullName == y.FullName,
        _ when Number(a) is { } x && Number(b) is { } y => x.Equals(y),
        _ => false,
    };

    private static int ScalarHash(object value) => value switch
    {
        string s => s.GetHashCode(StringComparison.Ordinal),
        PyBytes b => HashBytes(b.Data),
        PyGlobal g => g.FullName.GetHashCode(StringComparison.Ordinal),
        _ when Number(value) is { } n => n.GetHashCode(),
        _ => RuntimeHelpers.GetHashCode(value),
    };

    /// <summary>
    /// A number as Python compares it: an integer (bool included) or an integral float as its exact integer, any other
    /// float as itself; NaN is null (equal only to the same object).
    /// </summary>
    private static NumberKey? Number(object value) => value switch
    {
        bool b => new NumberKey(b ? BigInteger.One : BigInteger.Zero, 0),
        long l => new NumberKey(l, 0),
        BigInteger i => new NumberKey(i, 0),
        double d when double.IsNaN(d) => null,
        double d when double.IsFinite(d) && Math.Floor(d) == d => new NumberKey(new BigInteger(d), 0),
        double d => new NumberKey(BigInteger.Zero, d),
        _ => null,
    };

    private readonly record struct NumberKey(BigInteger Integer, double Fraction);

    /// <summary>
    /// The tuple's hash, or null when an item at any depth cannot be hashed (Python's <c>hash()</c> raises TypeError).
    /// Post-order without recursion, each tuple once: its answer is kept on it.
    /// </summary>
    public int? TupleHash(PyTuple root)
    {
        if (root.Hashable is not null)
        {
            return root.HashCode;
        }
        var pending = new Stack<(PyTuple Tuple, int Next)>();
        pending.Push((root, 0));
        while (pending.Count > 0 && root.Hashable is null)
        {
            var (tuple, next) = pending.Pop();
            while (next < tuple.Items.Count && tuple.Items[next] is not PyTuple { Hashable: null })
            {
                next++;
            }
            if (next < tuple.Items.Count)
            {
                pending.Push((tuple, next));
                pending.Push(((PyTuple)tuple.Items[next], 0));
                continue;
            }
            var hash = new HashCode();
            bool hashable = true;
            foreach (var item in tuple.Items)
            {
                if (item is PyTuple inner ? inner.Hashable == false : !PythonObjects.IsHashableScalar(item))
                {
                    hashable = false;
                    break;
                }
                hash.Add(item is PyTuple t ? t.HashCode!.Value : GetHashCode(item));
            }
            tuple.RememberHash(hashable ? hash.ToHashCode() : null);
        }
        return root.HashCode;
    }

    private static int HashBytes(byte[] data)
    {
        var hash = new HashCode();
        hash.AddBytes(data);
        return hash.ToHashCode();
    }
}
