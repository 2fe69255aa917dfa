namespace StateDict.Pickle;

/// <summary>
/// Where one pickle's tuples keep their items: segments of shared arrays, so a tuple is one object, not a tuple and
/// an array (a 20,000-tensor checkpoint has 80,000 tuples, and every one stays reachable until the pickle is read).
/// A segment is written once, when its tuple is made, and never again.
/// <para>
/// Short tuples of ints (the size and stride of every tensor) are made once per value and shared: tuples are immutable
/// and a pickle cannot tell two equal ones from one (only the memo shares objects, and it shares them either way), so a
/// 20,000-tensor checkpoint keeps a few hundred shapes instead of 40,000 tuples alive while it is read.
/// </para>
/// </summary>
internal sealed class TupleSlab
{
    // Bounds the shared-shape table whatever the pickle holds; past it, tuples are simply not shared.
    private const int MaxSharedShapes = 4096;

    // 8 KiB of references a block: small-object heap, and little left unused at each block's end.
    private const int BlockSize = 1024;
    // A tuple longer than this gets an array of its own rather than most of a block.
    private const int BlockMaxItems = 64;

    private readonly Dictionary<Shape, PyTuple> _shapes = [];
    private object[] _block = [];
    private int _used;

    public PyTuple Tuple(ReadOnlySpan<object> items)
    {
        if (items.IsEmpty)
        {
            return PyTuple.Empty;
        }
        if (Shape.Of(items) is not { } shape)
        {
            return Stored(items);
        }
        if (_shapes.TryGetValue(shape, out var shared))
        {
            return shared;
        }
        var tuple = Stored(items);
        if (_shapes.Count < MaxSharedShapes)
        {
            _shapes.Add(shape, tuple);
        }
        return tuple;
    }

    private PyTuple Stored(ReadOnlySpan<object> items)
    {
        if (items.Length > BlockMaxItems)
        {
            return new PyTuple(items.ToArray());
        }
        if (_block.Length - _used < items.Length)
        {
            _block = new object[BlockSize];
            _used = 0;
        }
        items.CopyTo(_block.AsSpan(_used));
        var segment = new ArraySegment<object>(_block, _used, items.Length);
        _used += items.Length;
        return new PyTuple(segment);
    }

    /// <summary>The value of a tuple of one to four ints (Python ints that fit a long; not bools).</summary>
    private readonly record struct Shape(int Count, long A, long B, long C, long D)
    {
        public static Shape? Of(ReadOnlySpan<object> items)
        {
            if (items.Length > 4)
            {
                return null;
            }
            Span<long> values = stackalloc long[4];
            for (int i = 0; i < items.Length; i++)
            {
                if (items[i] is not long value)
                {
                    return null;
                }
                values[i] = value;
            }
            return new Shape(items.Length, values[0], values[1], values[2], values[3]);
        }
    }
}
