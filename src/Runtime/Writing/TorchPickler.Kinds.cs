namespace StateDict.Writing;

/// <summary>
/// Sparse and quantized tensors, pickled as torch's <c>Tensor._reduce_ex_internal</c> does: torch 1.13's forms for COO
/// (<c>_rebuild_sparse_tensor(layout, (indices, values, size))</c>), CSR (<c>_rebuild_sparse_csr_tensor</c>) and
/// quantized tensors (<c>_rebuild_qtensor</c>, whose per-channel qscheme is always pickled as
/// <c>torch.per_channel_affine</c>, float qparams included); torch ≥ 2.1's for CSC, BSR, BSC
/// (<c>_rebuild_sparse_tensor(layout, (compressed, plain, values, size))</c>) and for a COO whose coalesced flag is known.
/// Components are new tensor objects each time, as <c>t._values()</c> is, sharing storages by key.
/// </summary>
internal sealed partial class TorchPickler
{
    private void WriteKind(WriteEntry entry)
    {
        switch (entry)
        {
            case SparseWriteEntry s:
                WriteSparse(s);
                break;
            case QuantizedWriteEntry q:
                WriteQuantized(q);
                break;
            default:
                throw new ArgumentException($"'{entry.Key}': cannot write a {entry.GetType().Name}");
        }
    }

    private void WriteSparse(SparseWriteEntry sparse)
    {
        bool csr113 = sparse.Layout == TensorLayout.SparseCsr;
        _pickle.Global("torch._utils", csr113 ? "_rebuild_sparse_csr_tensor" : "_rebuild_sparse_tensor");
        WriteLayout(sparse.Layout);
        int count = sparse.Components.Count + 1 + (sparse.IsCoalesced is null ? 0 : 1);
        _pickle.BeginTuple(count);
        foreach (var component in sparse.Components)
        {
            WriteRebuild(component, requiresGrad: false);
        }
        // self.size() is a torch.Size: (torch.Size, (tuple,)).
        _pickle.Global("torch", "Size");
        _pickle.IntTuple(sparse.Shape);
        _pickle.EndTuple(1);
        _pickle.Reduce();
        if (sparse.IsCoalesced is { } coalesced)
        {
            _pickle.Bool(coalesced);
        }
        _pickle.EndTuple(count);
        _pickle.EndTuple(2);
        _pickle.Reduce();
    }

    /// <summary><c>torch.serialization._get_layout('torch.sparse_coo')</c>: the layout is one object, written once.</summary>
    private void WriteLayout(TensorLayout layout)
    {
        var identity = new LayoutIdentity(layout);
        if (_pickle.TryGet(identity))
        {
            return;
        }
        _pickle.Global("torch.serialization", "_get_layout");
        _pickle.String("torch." + layout.Name());
        _pickle.EndTuple(1);
        _pickle.Reduce(identity);
    }

    private void WriteQuantized(QuantizedWriteEntry q)
    {
        _pickle.Global("torch._utils", "_rebuild_qtensor");
        _pickle.BeginTuple(7);
        string storageClass = q.DType.StorageClass();
        WriteStorage(q.Storage, untyped: false, storageClass["torch.".Length..]);
        _pickle.Int(q.StorageOffset);
        _pickle.IntTuple(q.Shape);
        _pickle.IntTuple(q.Strides);
        var quantizer = q.Quantizer;
        if (quantizer.PerChannel)
        {
            _pickle.BeginTuple(4);
            _pickle.Global("torch", "per_channel_affine");
            WriteRebuild(quantizer.Scales!, requiresGrad: false);
            WriteRebuild(quantizer.ZeroPoints!, requiresGrad: false);
            _pickle.Int(quantizer.Axis);
            _pickle.EndTuple(4);
        }
        else
        {
            _pickle.Global("torch", "per_tensor_affine");
            _pickle.Float(quantizer.Scale);
            _pickle.Int(quantizer.ZeroPoint);
            _pickle.EndTuple(3);
        }
        _pickle.Bool(false);
        WriteEmptyOrderedDict();
        _pickle.EndTuple(7);
        _pickle.Reduce();
    }

    private sealed record LayoutIdentity(TensorLayout Layout);
}
