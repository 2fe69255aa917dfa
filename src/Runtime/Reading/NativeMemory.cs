using System.Buffers;

namespace StateDict.Reading;

/// <summary>
/// Native memory that tensor views point into (a memory mapping or a huge-page arena). Once it is released,
/// every view over it throws <see cref="ObjectDisposedException"/> instead of reading freed memory.
/// </summary>
internal sealed class NativeRegion(string owner)
{
    private volatile bool _released;

    public void Release() => _released = true;

    public void ThrowIfReleased()
    {
        if (_released)
        {
            throw new ObjectDisposedException(owner, $"{owner} was disposed; tensor views over its memory are no longer valid.");
        }
    }
}

/// <summary>A <see cref="Memory{T}"/> over native memory that checks its region is still alive on every access.</summary>
internal sealed unsafe class NativeMemoryManager<T>(NativeRegion region, T* pointer, int length) : MemoryManager<T>
    where T : unmanaged
{
    public override Span<T> GetSpan()
    {
        region.ThrowIfReleased();
        return new Span<T>(pointer, length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        region.ThrowIfReleased();
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
        // Native memory does not move.
    }

    protected override void Dispose(bool disposing)
    {
        // The region owns the memory.
    }
}
