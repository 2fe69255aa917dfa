using System.Runtime.CompilerServices;
namespace StateDict.Pickle;

/// <summary>
/// The pickle memo: an array for the dense indices picklers write (0, 1, 2, …) and a dictionary for anything else,
/// so a hostile index such as 0xFFFFFFFF costs one entry, not a resize. Values are shared references, never copies.
/// </summary>
internal sealed class Memo
{
    // Chunks, not one growing array: a big pickle's memo would otherwise reallocate large-object-heap arrays.
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly List<object?[]> _chunks = [];
    private long _denseCount;
    private Dictionary<long, object>? _sparse;

    /// <summary>Number of slots set (what MEMOIZE uses as the next index).</summary>
    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Contains(long index) =>
        (index >= 0 && index < _denseCount && Slot(index) is not null) || (_sparse?.ContainsKey(index) ?? false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Set(long index, object value)
    {
        if (index >= 0 && index < _denseCount)
        {
            Count += Slot(index) is null ? 1 : 0;
            _chunks[(int)(index >> ChunkBits)][index & (ChunkSize - 1)] = value;
        }
        else if (index == _denseCount && _sparse is null)
        {
            if ((index & (ChunkSize - 1)) == 0)
            {
                _chunks.Add(new object?[ChunkSize]);
            }
            _chunks[(int)(index >> ChunkBits)][index & (ChunkSize - 1)] = value;
            _denseCount++;
            Count++;
        }
        else
        {
            _sparse ??= [];
            Count += _sparse.TryAdd(index, value) ? 1 : 0;
            _sparse[index] = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGet(long index, out object value)
    {
        if (index >= 0 && index < _denseCount && Slot(index) is { } dense)
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

    private object? Slot(long index) => _chunks[(int)(index >> ChunkBits)][index & (ChunkSize - 1)];
}
