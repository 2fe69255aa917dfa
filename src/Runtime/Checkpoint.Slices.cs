using System.Runtime.InteropServices;
using StateDict.Reading;

namespace StateDict;

// Reads that give something other than the stored tensor as it is: a slice, or another element type.
public sealed partial class Checkpoint
{
    /// <summary>
    /// Reads the elements of <paramref name="ranges"/> over the leading dimensions (<c>tensor[a:b, c:d]</c>, like
    /// safetensors' <c>get_slice</c>; the other dimensions whole), reading only the bytes those elements occupy. Mapped
    /// (<see cref="TensorMemory.MemoryMapped"/>) or already-read storages give a zero-copy view when the slice is contiguous.
    /// </summary>
    /// <example><code>var rows = ckpt.ReadSlice&lt;float&gt;("lm_head.weight", ..1024);   // the first 1024 rows</code></example>
    /// <exception cref="TensorTypeMismatchException"><typeparamref name="T"/> is not the tensor's element type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A range is outside its dimension.</exception>
    public TensorView<T> ReadSlice<T>(string key, params ReadOnlySpan<Range> ranges) where T : unmanaged
    {
        var tensor = Find(key);
        CheckElementType<T>(tensor);
        var view = ViewGeometry.Of(tensor).Slice(ranges, key);
        return new TensorView<T>(tensor, ReadGeometry<T>(tensor, view), view.Shape, tensor.DType);
    }

    /// <summary>
    /// Copies the elements of <paramref name="ranges"/> (as <see cref="ReadSlice{T}(string, ReadOnlySpan{Range})"/> selects
    /// them) row-major into the start of <paramref name="destination"/>, reading only the bytes they occupy: no array is
    /// allocated, so a caller that reuses its buffers (a tensor-parallel worker filling preallocated shards, a
    /// <c>load_state_dict</c>-style copy into existing weights) pays for the bytes and nothing else.
    /// </summary>
    /// <example><code>
    /// var shard = new float[rowsPerWorker * hidden];
    /// ckpt.CopySliceTo&lt;float&gt;("mlp.c_fc.weight", shard, (rank * rowsPerWorker)..((rank + 1) * rowsPerWorker));
    /// </code></example>
    /// <returns>How many elements were written.</returns>
    /// <exception cref="TensorTypeMismatchException"><typeparamref name="T"/> is not the tensor's element type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A range is outside its dimension.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the slice.</exception>
    public int CopySliceTo<T>(string key, Span<T> destination, params ReadOnlySpan<Range> ranges) where T : unmanaged
    {
        var tensor = Find(key);
        CheckElementType<T>(tensor);
        var view = ViewGeometry.Of(tensor).Slice(ranges, key);
        CheckReadable(tensor, view.Count);
        if (destination.Length < view.Count)
        {
            throw new ArgumentException($"'{key}'[slice] has {view.Count} elements; the destination holds {destination.Length}", nameof(destination));
        }
        var written = destination[..(int)view.Count];
        if (written.IsEmpty)
        {
            return 0;
        }
        if (_storages.ForRange<T>(tensor.Storage.Root) is { } buffer)
        {
            CopyFrom(buffer, view, written);
        }
        else
        {
            ReadFromFile(tensor, view, written);
        }
        ViewSigns.Apply(written, tensor.IsConjugate, tensor.IsNegative);
        return written.Length;
    }

    /// <summary>
    /// Reads a tensor as <typeparamref name="T"/> (<see cref="float"/>, <see cref="double"/>, <see cref="Half"/> or
    /// <see cref="BFloat16"/>), converting from any floating or integer dtype exactly as PyTorch's <c>tensor.to(dtype)</c>
    /// does (nearest-even rounding; infinities kept; NaN rules in the README). When <typeparamref name="T"/> is the stored
    /// element type this is <see cref="Read{T}(string)"/>.
    /// </summary>
    /// <example><code>TensorView&lt;float&gt; w = ckpt.ReadAs&lt;float&gt;("model.embed_tokens.weight");   // stored as bfloat16</code></example>
    /// <exception cref="TensorTypeMismatchException">The stored dtype cannot be converted to <typeparamref name="T"/>.</exception>
    public TensorView<T> ReadAs<T>(string key) where T : unmanaged
    {
        var tensor = Find(key);
        return tensor.DType.ElementType() == typeof(T) ? Read<T>(tensor) : Converted<T>(tensor, ViewGeometry.Of(tensor));
    }

    /// <summary><see cref="ReadSlice{T}(string, ReadOnlySpan{Range})"/> converted like <see cref="ReadAs{T}(string)"/>.</summary>
    public TensorView<T> ReadSliceAs<T>(string key, params ReadOnlySpan<Range> ranges) where T : unmanaged
    {
        var tensor = Find(key);
        if (tensor.DType.ElementType() == typeof(T))
        {
            return ReadSlice<T>(key, ranges);
        }
        return Converted<T>(tensor, ViewGeometry.Of(tensor).Slice(ranges, key));
    }

    private TensorView<T> Converted<T>(TensorInfo tensor, ViewGeometry view) where T : unmanaged
    {
        var target = DTypeInfo.Of<T>();
        if (target is not { } to || !FloatConversion.CanConvert(tensor.DType, to))
        {
            throw new TensorTypeMismatchException(Path, tensor.Key, tensor.DType, typeof(T));
        }
        CheckSpanSize(tensor, view.Count);
        var result = GC.AllocateUninitializedArray<T>((int)view.Count);
        DTypeDispatch.Invoke(tensor.DType, new ConvertInto<T>(this, tensor, view, to, result));
        return new TensorView<T>(tensor, result, view.Shape, to);
    }

    /// <summary>
    /// A view's elements, row-major: from the storage's buffer when having it costs no read, else only the bytes the
    /// elements occupy, straight from the file.
    /// </summary>
    private ReadOnlyMemory<T> ReadGeometry<T>(TensorInfo tensor, ViewGeometry view) where T : unmanaged
    {
        CheckReadable(tensor, view.Count);
        if (view.Count == 0)
        {
            return ReadOnlyMemory<T>.Empty;
        }
        return WithViewSigns(tensor, ReadStored<T>(tensor, view));
    }

    /// <summary>The stored elements of a view (before any conj/neg bit is applied).</summary>
    private ReadOnlyMemory<T> ReadStored<T>(TensorInfo tensor, ViewGeometry view) where T : unmanaged
    {
        if (_storages.ForRange<T>(tensor.Storage.Root) is { } buffer)
        {
            return ReadFrom<T>(buffer, view);
        }
        var result = GC.AllocateUninitializedArray<T>((int)view.Count);
        HugePageArena.AdviseHugePages(result);
        ReadFromFile(tensor, view, result.AsSpan());
        return result;
    }

    /// <summary>
    /// Writes a view's stored elements, row-major, into <paramref name="destination"/> (exactly <c>view.Count</c> long),
    /// reading only the bytes the elements occupy, straight from the file.
    /// </summary>
    private void ReadFromFile<T>(TensorInfo tensor, ViewGeometry view, Span<T> destination) where T : unmanaged
    {
        var storage = tensor.Storage.Root;
        int size = tensor.DType.ElementSize();
        int outer = view.OuterDimensions(out long run);
        if (outer > 0 && run * size < 4096)
        {
            // Runs too short to read one by one: one read of the span they cover, then a gather.
            var covering = GC.AllocateUninitializedArray<T>(checked((int)view.Extent));
            _storages.ReadRange(storage, view.Offset * size, MemoryMarshal.AsBytes(covering.AsSpan()));
            StridedCopy.Gather<T>(covering, 0, view.Shape.AsSpan(), view.Strides.AsSpan(), destination);
            return;
        }
        Span<long> index = stackalloc long[outer];
        long source = view.Offset;
        for (int written = 0; written < destination.Length; written += (int)run)
        {
            _storages.ReadRange(storage, source * size, MemoryMarshal.AsBytes(destination.Slice(written, (int)run)));
            for (int d = outer - 1; d >= 0; d--)
            {
                source += view.Strides[d];
                if (++index[d] < view.Shape[d])
                {
                    break;
                }
                source -= view.Strides[d] * view.Shape[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>A view's elements from a storage buffer: shared when contiguous, gathered row-major otherwise.</summary>
    private static ReadOnlyMemory<T> ReadFrom<T>(StorageBuffer buffer, ViewGeometry view) where T : unmanaged
    {
        if (view.Count == 0)
        {
            return ReadOnlyMemory<T>.Empty;
        }
        if (view.IsContiguous)
        {
            return buffer.Slice<T>(view.Offset, (int)view.Count);
        }
        var result = GC.AllocateUninitializedArray<T>((int)view.Count);
        CopyFrom(buffer, view, result.AsSpan());
        return result;
    }

    /// <summary>A view's elements from a storage buffer, row-major, into <paramref name="destination"/> (exactly <c>view.Count</c> long).</summary>
    private static void CopyFrom<T>(StorageBuffer buffer, ViewGeometry view, Span<T> destination) where T : unmanaged
    {
        // Only the part of the storage the view can address is needed.
        var stored = buffer.Span<T>(view.Offset, checked((int)view.Extent));
        if (view.IsContiguous)
        {
            stored.CopyTo(destination);
            return;
        }
        StridedCopy.Gather(stored, 0, view.Shape.AsSpan(), view.Strides.AsSpan(), destination);
    }

    /// <summary>Whether <paramref name="count"/> elements of <paramref name="tensor"/> can be read into one span now.</summary>
    private void CheckReadable(TensorInfo tensor, long count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfMeta(tensor);
        CheckSpanSize(tensor, count);
    }

    private void CheckSpanSize(TensorInfo tensor, long count)
    {
        if (count > Array.MaxLength)
        {
            throw new CheckpointFormatException(Path,
                $"tensor '{tensor.Key}' has {count} elements, more than one span can index ({Array.MaxLength}); read it in parts with CopyTo or ReadSlice");
        }
    }

    private sealed class ConvertInto<TTo>(Checkpoint checkpoint, TensorInfo tensor, ViewGeometry view, DType target, TTo[] destination) : IElementFunc<bool>
        where TTo : unmanaged
    {
        public bool Invoke<TFrom>() where TFrom : unmanaged
        {
            var source = checkpoint.ReadGeometry<TFrom>(tensor, view);
            FloatConversion.Convert(tensor.DType, MemoryMarshal.AsBytes(source.Span), target, MemoryMarshal.AsBytes(destination.AsSpan()));
            return true;
        }
    }
}
