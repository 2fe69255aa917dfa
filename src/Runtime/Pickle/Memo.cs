namespace StateDict.Pickle;

/// <summary>
/// The pickle memo: an array for the dense indices picklers write (0, 1, 2, …) and a dictionary for anything else,
/// so a hostile index such as 0xFFFFFFFF costs one entry, not a resize. Values are shared references, never copies.
/// </summary>
internal sealed class Memo
{
    private readonly List<object?> _dense = [];
    private Dictionary<long, object>? _sparse;

    /// <summary>Number of slots set (what MEMOIZE uses as the next index).</summary>
    public int Count { get; private set; }

    public bool Contains(long index) =>
        (index >= 0 && index < _dense.Count && _dense[(int)index] is not null) || (_sparse?.ContainsKey(index) ?? false);

    public void Set(long index, object value)
    {
        if (index >= 0 && index < _dense.Count)
        {
            Count += _dense[(int)index] is null ? 1 : 0;
            _dense[(int)index] = value;
        }
        else if (index == _dense.Count && _sparse is null)
        {
            _dense.Add(value);
            Count++;
        }
        else
        {
            _sparse ??= [];
            Count += _sparse.TryAdd(index, value) ? 1 : 0;
            _sparse[index] = value;
        }
    }

    public bool TryGet(long index, out object value)
    {
        if (index >= 0 && index < _dense.Count && _dense[(int)index] is { } dense)
        {
            value = dense;
            return true;
        }
        if (_sparse is not null && _sparse.TryGetValue(index, out var sparse))
        {
            value = sparse;
            return true;
        }
        value = null!;
        return false;
    }
}
