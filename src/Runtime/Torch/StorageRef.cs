namespace StateDict.Torch;

/// <summary>
/// A storage as the pickle declares it: its record key, dtype and size. Several tensors may point at one
/// storage (tied weights, views); they share one <see cref="StorageRef"/> and so one buffer when read.
/// </summary>
internal sealed class StorageRef(string key, DType? dtype, long size, bool untyped, long pickleOffset)
{
    public string Key { get; } = key;

    /// <summary>The element type; for an untyped (byte) storage, set by the first tensor that views it.</summary>
    public DType? DType { get; set; } = dtype;

    /// <summary>Elements for typed storages, bytes for untyped ones (as torch counts them).</summary>
    public long Size { get; } = size;

    public bool Untyped { get; } = untyped;

    /// <summary>For a quantized storage class (<c>torch.QInt8Storage</c>, ...): its dtype; <see cref="DType"/> is the integer representation's.</summary>
    public QuantizedDType? Quantized { get; init; }

    public long PickleOffset { get; } = pickleOffset;

    public long ByteLength => Untyped ? Size : Size * DType!.Value.ElementSize();

    /// <summary>How many elements of <see cref="DType"/> the storage holds.</summary>
    public long ElementCount => Untyped ? Size / DType!.Value.ElementSize() : Size;
}

/// <summary>A (possibly legacy sub-) view of a storage: the part a persistent id hands to a tensor.</summary>
internal readonly record struct StorageSlice(StorageRef Root, long ElementOffset, long? ViewElementCount)
{
    /// <summary>Elements a tensor may address through this slice.</summary>
    public long ElementCount => ViewElementCount ?? Root.ElementCount;
}
