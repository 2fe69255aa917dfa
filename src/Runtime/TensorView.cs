using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace StateDict;

/// <summary>
/// A tensor's elements, contiguous and row-major, with its shape. Contiguous tensors share their storage's
/// buffer (tied weights share one array); strided views were materialized when read.
/// </summary>
/// <typeparam name="T">The element type matching the tensor's <see cref="DType"/> (e.g. <see cref="float"/> for float32).</typeparam>
/// <example>
/// <code>
/// TensorView&lt;float&gt; w = checkpoint.Read&lt;float&gt;("fc1.weight");   // [32, 16]
/// float first = w[0, 0];
/// ReadOnlySpan&lt;float&gt; row = w.Span.Slice(16, 16);
/// ReadOnlyTensorSpan&lt;float&gt; t = w.AsTensorSpan();
/// </code>
/// </example>
public sealed class TensorView<T> where T : unmanaged
{
    private readonly ReadOnlyMemory<T> _memory;

    internal TensorView(TensorInfo info, ReadOnlyMemory<T> memory)
        : this(info, memory, info.Shape, info.DType)
    {
    }

    /// <summary>A view whose shape or element type differs from the stored tensor's (a slice, a converted read).</summary>
    internal TensorView(TensorInfo info, ReadOnlyMemory<T> memory, ImmutableArray<long> shape, DType dtype)
    {
        Info = info;
        _memory = memory;
        Shape = shape;
        DType = dtype;
    }

    /// <summary>
    /// What the checkpoint says about the stored tensor this view was read from (for a slice or a converted read,
    /// its full shape and stored dtype; the view's own are <see cref="Shape"/> and <see cref="DType"/>).
    /// </summary>
    public TensorInfo Info { get; }

    /// <summary>The tensor's key.</summary>
    public string Key => Info.Key;

    /// <summary>The element type of this view as PyTorch names it (the stored dtype, or the one converted to).</summary>
    public DType DType { get; }

    /// <summary>The size of each dimension of this view (empty for a 0-d scalar).</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length => _memory.Length;

    /// <summary>The elements, row-major.</summary>
    public ReadOnlySpan<T> Span => _memory.Span;

    /// <summary>The elements, row-major, as memory that can be stored or sliced.</summary>
    public ReadOnlyMemory<T> Memory => _memory;

    /// <summary>The element at a full index, one coordinate per dimension.</summary>
    /// <exception cref="ArgumentException">The index has the wrong rank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A coordinate is outside its dimension.</exception>
    public T this[params ReadOnlySpan<long> index]
    {
        get
        {
            if (index.Length != Rank)
            {
                throw new ArgumentException($"'{Key}' has {Rank} dimensions; the index has {index.Length}", nameof(index));
            }
            long flat = 0;
            for (int d = 0; d < index.Length; d++)
            {
                if ((ulong)index[d] >= (ulong)Shape[d])
                {
                    throw new ArgumentOutOfRangeException(nameof(index), $"index {index[d]} is outside dimension {d} of '{Key}' (size {Shape[d]})");
                }
                flat = (flat * Shape[d]) + index[d];
            }
            return _memory.Span[(int)flat];
        }
    }

    /// <summary>Copies the elements into a new array.</summary>
    public T[] ToArray() => _memory.ToArray();

    /// <summary>The elements as a System.Numerics.Tensors span with this tensor's shape (no copy).</summary>
    public ReadOnlyTensorSpan<T> AsTensorSpan() =>
        // An empty tensor's memory has a null reference, which ReadOnlyTensorSpan refuses for every shape ([0, 4] included);
        // the span of an empty array is accepted.
        new(_memory.IsEmpty ? new ReadOnlySpan<T>(Array.Empty<T>()) : _memory.Span, Lengths());

    /// <summary>Copies the elements into a new System.Numerics.Tensors <see cref="Tensor{T}"/> with this tensor's shape.</summary>
    public Tensor<T> ToTensor() => Tensor.Create(ToArray(), Lengths());

    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {DType.Name()} [{string.Join(", ", Shape)}]";

    private nint[] Lengths()
    {
        // A 0-d scalar is exposed as a one-element vector: tensor spans have rank at least 1.
        if (Rank == 0)
        {
            return [1];
        }
        var lengths = new nint[Rank];
        for (int i = 0; i < Rank; i++)
        {
            lengths[i] = (nint)Shape[i];
        }
        return lengths;
    }
}
