using System.Numerics;

namespace StateDict.Pickle;

// The pickle VM's object model: plain data only. Python ints are long (or BigInteger when wider),
// floats are double, str is string, bool is bool, None is PyNone.Value. Nothing here can run.

/// <summary>Python's None.</summary>
internal sealed class PyNone
{
    public static readonly PyNone Value = new();

    private PyNone()
    {
    }

    public override string ToString() => "None";
}

/// <summary>A reference to a Python global by name (GLOBAL, STACK_GLOBAL, INST). Never resolved.</summary>
internal sealed record PyGlobal(string Module, string Name, long Offset)
{
    /// <summary><c>module.name</c>, computed once: the torch layer compares it for every tensor.</summary>
    public string FullName { get; } = $"{Module}.{Name}";

    public bool Is(string module, string name) => Module == module && Name == name;

    public override string ToString() => FullName;
}

/// <summary>
/// A tuple. Its items may be a segment of a larger array the VM shares between the tuples of one pickle (one object per
/// tuple instead of two, for the 80,000 tuples of a 20,000-tensor checkpoint): never written once the tuple exists.
/// </summary>
internal sealed class PyTuple
{
    public static readonly PyTuple Empty = new([]);

    // The hash cache, packed (a tuple per tensor argument, shape and stride): 0 unknown, 1 hashable (_hash), 2 not.
    private int _hash;
    private byte _hashState;

    public PyTuple(object[] items) => Items = new ArraySegment<object>(items);

    public PyTuple(ArraySegment<object> items) => Items = items;

    public ArraySegment<object> Items { get; }

    /// <summary>Whether Python can hash it, once <see cref="PythonEquality.TupleHash"/> has looked.</summary>
    public bool? Hashable => _hashState == 0 ? null : _hashState == 1;

    /// <summary>Its <see cref="PythonEquality"/> hash, once computed; null while unknown or when it has none.</summary>
    public int? HashCode => _hashState == 1 ? _hash : null;

    /// <summary>Keeps <see cref="PythonEquality.TupleHash"/>'s answer: the hash, or null when it cannot be hashed.</summary>
    public void RememberHash(int? hash)
    {
        _hash = hash ?? 0;
        _hashState = hash is null ? (byte)2 : (byte)1;
    }
}

internal sealed class PyList
{
    public List<object> Items { get; } = [];
}

/// <summary>
/// A dict in insertion order, with Python's key semantics (<see cref="PythonEquality"/>): setting a key equal to one it
/// holds replaces that entry's value and keeps the first key and its place, as CPython does.
/// </summary>
internal sealed class PyDict
{
    private Dictionary<object, int>? _index;

    public List<KeyValuePair<object, object>> Items { get; } = [];

    public void Set(object key, object value)
    {
        _index ??= new Dictionary<object, int>(PythonEquality.Instance);
        if (_index.TryGetValue(key, out int at))
        {
            Items[at] = new(Items[at].Key, value);
            return;
        }
        _index.Add(key, Items.Count);
        Items.Add(new(key, value));
    }
}

/// <summary>A set or frozenset in insertion order, without items equal in Python (<see cref="PythonEquality"/>).</summary>
internal sealed class PySet(bool frozen)
{
    private readonly HashSet<object> _index = new(PythonEquality.Instance);
    private readonly List<object> _items = [];

    public bool Frozen { get; } = frozen;

    public IReadOnlyList<object> Items => _items;

    public void Add(object item)
    {
        if (_index.Add(item))
        {
            _items.Add(item);
        }
    }

    public bool Contains(object item) => _index.Contains(item);

    /// <summary>Its <see cref="PythonEquality"/> hash, once computed (only frozensets are hashed).</summary>
    public int? HashCode { get; set; }
}

internal sealed class PyBytes(byte[] data, bool mutable)
{
    public byte[] Data { get; } = data;

    /// <summary>True for bytearray.</summary>
    public bool Mutable { get; } = mutable;
}

internal enum CallKind
{
    /// <summary>REDUCE: callable(*args).</summary>
    Reduce,
    /// <summary>NEWOBJ / NEWOBJ_EX: cls.__new__(cls, *args, **kwargs).</summary>
    NewObj,
    /// <summary>INST / OBJ: protocol-0/1 class instantiation.</summary>
    Instantiate,
}

/// <summary>
/// What a pickle would have called, kept as data: the callable, its arguments, and what later opcodes
/// did to the result (BUILD states, SETITEM(S) items, APPEND(S) items).
/// </summary>
internal sealed class PyCall(object callable, PyTuple args, CallKind kind, long offset)
{
    // What later opcodes add, in one object made on first use: most calls (every tensor rebuild) never get any, and a
    // 20,000-tensor pickle makes 40,000 calls.
    private Additions? _additions;

    public object Callable { get; } = callable;

    public PyTuple Args { get; } = args;

    public CallKind Kind { get; } = kind;

    public long Offset { get; } = offset;

    public object? Kwargs
    {
        get => _additions?.Kwargs;
        init => (_additions ??= new()).Kwargs = value;
    }

    public List<object> States => (_additions ??= new()).States ??= [];

    public List<KeyValuePair<object, object>> SetItems => (_additions ??= new()).SetItems ??= [];

    public List<object> Appended => (_additions ??= new()).Appended ??= [];

    /// <summary>The callable when it is a plain global reference.</summary>
    public PyGlobal? Global => Callable as PyGlobal;

    private sealed class Additions
    {
        public object? Kwargs;
        public List<object>? States;
        public List<KeyValuePair<object, object>>? SetItems;
        public List<object>? Appended;
    }
}

/// <summary>A persistent id (BINPERSID / PERSID): how torch points from the pickle to storage records.</summary>
internal sealed class PyPersistentId(object id, long offset)
{
    public object Id { get; } = id;

    /// <summary>
    /// A legacy <c>('module', cls, source_file, source)</c> id: torch.load's persistent_load gives back the class itself
    /// (callable, a type). Every other id it accepts becomes a storage, which is neither.
    /// </summary>
    public bool NamesClass => Id is PyTuple { Items: ["module", PyGlobal, string, string] };

    public long Offset { get; } = offset;
}

internal static class PyValue
{
    private static readonly object[] SmallInts = Enumerable.Range(-16, 1040).Select(i => (object)(long)i).ToArray();

    public static readonly object True = true;
    public static readonly object False = false;

    /// <summary>A boxed Python int; the small ones every checkpoint repeats (sizes, strides, offsets) are shared.</summary>
    public static object Int(long value) => value is >= -16 and < 1024 ? SmallInts[value + 16] : value;

    /// <summary>Python's <c>str()</c> of a scalar key (dict keys become path segments).</summary>
    public static string? KeyString(object key) => key switch
    {
        string s => s,
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        BigInteger b => b.ToString(System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        double d => PythonFloat(d),
        PyNone => "None",
        _ => null,
    };

    public static string TypeName(object value) => value switch
    {
        string => "str",
        long or BigInteger => "int",
        double => "float",
        bool => "bool",
        PyNone => "None",
        PyTuple => "tuple",
        PyList => "list",
        PyDict => "dict",
        PySet s => s.Frozen ? "frozenset" : "set",
        PyBytes b => b.Mutable ? "bytearray" : "bytes",
        PyGlobal g => $"global {g.FullName}",
        PyCall c => c.Global is { } g ? $"{g.FullName}(...)" : "call result",
        PyPersistentId => "persistent id",
        _ => value.GetType().Name,
    };

    public static string PythonFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }
        var s = d.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }
}
