using System.Collections.Immutable;

namespace StateDict.Writing;

/// <summary>
/// A sparse tensor to write: its layout, dense shape and component tensors in the order torch pickles them
/// (COO: indices, values; compressed layouts: compressed indices, plain indices, values). <c>IsCoalesced</c> is COO's
/// flag torch ≥ 2.1 pickles; null writes torch 1.13's three-item form.
/// </summary>
internal sealed record SparseWriteEntry(string Key, TensorLayout Layout, ImmutableArray<long> Shape, bool? IsCoalesced, IReadOnlyList<TensorEntry> Components)
    : WriteEntry(Key);

/// <summary>
/// A quantized tensor to write: its integer representation as a view of <see cref="Storage"/> (for quint4x2 / quint2x4
/// the packed bytes, the view being the logical shape, contiguous from offset 0) and its quantizer parameters.
/// </summary>
internal sealed record QuantizedWriteEntry(string Key, QuantizedDType DType, StorageSource Storage, long StorageOffset,
    ImmutableArray<long> Shape, ImmutableArray<long> Strides, QuantizerWrite Quantizer) : WriteEntry(Key);

/// <summary>Per tensor: <see cref="Scale"/> and <see cref="ZeroPoint"/>; per channel: the tensors and the axis.</summary>
internal sealed record QuantizerWrite(double Scale, long ZeroPoint, TensorEntry? Scales, TensorEntry? ZeroPoints, int Axis)
{
    public bool PerChannel => Scales is not null;
}
