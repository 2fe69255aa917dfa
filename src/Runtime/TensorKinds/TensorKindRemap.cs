namespace StateDict.Torch;

/// <summary>
/// Carries sparse and quantized tensors over when a container re-creates its tensors' <see cref="TensorInfo"/>s (a
/// sharded checkpoint re-roots each shard's storages): the new entries keep their component roles, and the sparse and
/// quantized tensors point at the new entries.
/// </summary>
internal sealed class TensorKindRemap
{
    private readonly Dictionary<TensorInfo, TensorInfo> _moved = new(ReferenceEqualityComparer.Instance);

    /// <summary><paramref name="to"/> (a re-created <paramref name="from"/>) with <paramref name="from"/>'s role; remembered.</summary>
    public TensorInfo Move(TensorInfo from, TensorInfo to)
    {
        var moved = from.Owner is { } owner ? to.AsComponent(owner, from.Component!, from.Layout)
            : from.QuantizedDType is { } qdtype ? to.AsQuantized(qdtype)
            : to;
        _moved.Add(from, moved);
        return moved;
    }

    public SparseTensorInfo Sparse(SparseTensorInfo s) =>
        new(s.Key, s.Layout, s.Shape, s.IsCoalesced, Moved(s.Indices), Moved(s.CompressedIndices), Moved(s.PlainIndices), Moved(s.Values)!);

    public QuantizedTensorInfo Quantized(QuantizedTensorInfo q) =>
        new(q.Key, q.DType, q.Scheme, q.Shape, Moved(q.Data)!, q.Scale, q.ZeroPoint, Moved(q.Scales), Moved(q.ZeroPoints), q.Axis);

    private TensorInfo? Moved(TensorInfo? original) => original is null ? null : _moved[original];
}
