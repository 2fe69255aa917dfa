using System.Collections.Immutable;
using StateDict.Torch;

namespace StateDict;

/// <summary>
/// What a checkpoint says about one tensor, before any of its bytes are read: key, dtype, shape,
/// strides and offset into its storage, exactly as PyTorch recorded them.
/// </summary>
/// <example>
/// <code>
/// foreach (var (key, info) in checkpoint.Tensors)
///     Console.WriteLine($"{key}: {info.DType.Name()} [{string.Join(", ", info.Shape)}]");
/// </code>
/// </example>
public sealed class TensorInfo
{
    internal TensorInfo(string key, DType dtype, ImmutableArray<long> shape, ImmutableArray<long> strides,
        long storageOffset, long elementCount, bool isParameter, StorageSlice storage)
    {
        Key = key;
        DType = dtype;
        Shape = shape;
        Strides = strides;
        StorageOffset = storageOffset;
        ElementCount = elementCount;
        IsParameter = isParameter;
        Storage = storage;
        IsContiguous = IsRowMajor(shape, strides);
    }

    /// <summary>The flattened key, e.g. <c>fc1.weight</c> or <c>optimizer.state.0.momentum_buffer</c>.</summary>
    public string Key { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The size of each dimension (empty for a 0-d scalar).</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>The stride of each dimension in elements, as stored (views may be non-contiguous).</summary>
    public ImmutableArray<long> Strides { get; }

    /// <summary>Offset of the first element within the storage, in elements.</summary>
    public long StorageOffset { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Bytes the tensor occupies once made contiguous.</summary>
    public long ByteLength => ElementCount * DType.ElementSize();

    /// <summary>True when the tensor was pickled as an <c>nn.Parameter</c>.</summary>
    public bool IsParameter { get; }

    /// <summary>True when the strides are row-major for the shape, so the bytes can be handed out without a copy.</summary>
    public bool IsContiguous { get; }

    /// <summary>The storage record holding the bytes (its key within the checkpoint); empty for a meta tensor.</summary>
    public string StorageKey => Storage.Root.Key;

    /// <summary>
    /// True for a conjugate view of a complex tensor (torch ≥ 2.0 saves <c>z.conj()</c> as <c>z</c>'s storage plus
    /// <c>{'conj': True}</c>). Reading applies it, as <c>torch.load</c> does: imaginary parts come back negated, in a copy.
    /// </summary>
    public bool IsConjugate { get; internal init; }

    /// <summary>
    /// True for a negative view (torch ≥ 2.0 saves e.g. <c>z.conj().imag</c> as the stored values plus <c>{'neg': True}</c>).
    /// Reading applies it, as <c>torch.load</c> does: values come back negated, in a copy.
    /// </summary>
    public bool IsNegative { get; internal init; }

    /// <summary>
    /// True for a tensor on PyTorch's <c>meta</c> device: it has a dtype, shape and strides but no data, so it cannot be read.
    /// </summary>
    public bool IsMeta { get; internal init; }

    internal StorageSlice Storage { get; }

    /// <summary>
    /// The layout of the tensor this entry belongs to: <see cref="TensorLayout.Strided"/> for dense and quantized tensors,
    /// the sparse layout for a component (<c>KEY.indices</c>, <c>KEY.values</c>, ...) of a sparse tensor.
    /// </summary>
    public TensorLayout Layout { get; private init; }

    /// <summary>For a component of a sparse or quantized tensor: that tensor's key (see <see cref="Checkpoint.SparseTensors"/>, <see cref="Checkpoint.QuantizedTensors"/>).</summary>
    public string? Owner { get; private init; }

    /// <summary>For a component: its name (<c>indices</c>, <c>values</c>, <c>crow_indices</c>, <c>scales</c>, <c>zero_points</c>, ...).</summary>
    public string? Component { get; private init; }

    /// <summary>For the integer representation of a quantized tensor: its quantized dtype (<see cref="DType"/> is the representation's).</summary>
    public QuantizedDType? QuantizedDType { get; private init; }

    /// <summary>Returns a copy under another key (used when a prefix is selected or stripped).</summary>
    internal TensorInfo WithKey(string key, string? owner = null) =>
        new(key, DType, Shape, Strides, StorageOffset, ElementCount, IsParameter, Storage)
        {
            Layout = Layout, Owner = owner ?? Owner, Component = Component, QuantizedDType = QuantizedDType,
            IsConjugate = IsConjugate, IsNegative = IsNegative, IsMeta = IsMeta,
        };

    /// <summary>This tensor as a component of the sparse or quantized tensor <paramref name="owner"/>.</summary>
    internal TensorInfo AsComponent(string owner, string component, TensorLayout layout) =>
        new(Key, DType, Shape, Strides, StorageOffset, ElementCount, IsParameter, Storage)
        {
            Layout = layout, Owner = owner, Component = component,
        };

    /// <summary>This tensor as the integer representation of a quantized tensor.</summary>
    internal TensorInfo AsQuantized(QuantizedDType dtype) =>
        new(Key, DType, Shape, Strides, StorageOffset, ElementCount, IsParameter, Storage) { QuantizedDType = dtype };

    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {DType.Name()} [{string.Join(", ", Shape)}]";

    /// <summary>True when <paramref name="strides"/> are row-major for <paramref name="shape"/> (size-1 dimensions may have any stride).</summary>
    internal static bool IsRowMajor(ImmutableArray<long> shape, ImmutableArray<long> strides)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 0)
            {
                return true;
            }
            if (shape[i] != 1 && strides[i] != expected)
            {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }
}
