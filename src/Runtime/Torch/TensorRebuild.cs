using System.Collections.Immutable;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Turns torch's tensor rebuild calls into <see cref="TensorInfo"/>:
/// <c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])</c>,
/// <c>_rebuild_tensor_v3(..., dtype[, metadata])</c>, <c>_rebuild_tensor(storage, offset, size, stride)</c> and the
/// <c>_rebuild_parameter</c> wrappers. Every extent is checked against the storage before a byte is read.
/// </summary>
internal sealed class TensorRebuild(StorageTable storages, PickleSource source, CheckpointLimits limits)
{
    public static bool IsTensor(object value) => value is PyCall { Global: { } g } && g.FullName is
        AllowList.RebuildTensor or AllowList.RebuildTensorV2 or AllowList.RebuildTensorV3
        or AllowList.RebuildParameter or AllowList.RebuildParameterWithState;

    public TensorInfo Build(string key, PyCall call)
    {
        var args = call.Args.Items;
        switch (call.Global!.FullName)
        {
            case AllowList.RebuildParameter:
            case AllowList.RebuildParameterWithState:
                if (args.Length < 1 || args[0] is not PyCall data || !IsTensor(data) || data.Global!.FullName is AllowList.RebuildParameter or AllowList.RebuildParameterWithState)
                {
                    throw Fail(call, key, "_rebuild_parameter needs a tensor as its first argument");
                }
                return Tensor(key, data, isParameter: true);
            default:
                return Tensor(key, call, isParameter: false);
        }
    }

    private TensorInfo Tensor(string key, PyCall call, bool isParameter)
    {
        var args = call.Args.Items;
        string name = call.Global!.Name;
        int expected = name switch
        {
            "_rebuild_tensor" => 4,
            "_rebuild_tensor_v2" => 6,
            _ => 7,
        };
        if (args.Length < expected || args.Length > expected + 1 || (name == "_rebuild_tensor" && args.Length != 4))
        {
            throw Fail(call, key, $"{name} takes {expected} arguments, got {args.Length}");
        }
        var slice = Storage(call, key, args[0]);
        if (slice.Root.Quantized is { } quantized)
        {
            throw Fail(call, key, $"{name} views storage '{slice.Root.Key}' of quantized dtype {quantized.Name()}; only _rebuild_qtensor may");
        }
        if (name == "_rebuild_tensor_v3")
        {
            BindDType(call, key, slice.Root, args[6]);
        }
        else if (slice.Root.Untyped)
        {
            throw Fail(call, key, $"{name} needs a typed storage but '{slice.Root.Key}' is untyped");
        }
        return View(call, key, slice, args[1], args[2], args[3], isParameter);
    }

    /// <summary>The storage a rebuild call's storage argument names.</summary>
    internal StorageSlice Storage(PyCall call, string key, object argument) =>
        storages.TryResolve(argument, out var slice) ? slice
        : throw Fail(call, key, $"the storage argument is a {PyValue.TypeName(argument)}, not a storage reference");

    /// <summary>A strided view of a typed storage: offset, size and stride checked against it.</summary>
    internal TensorInfo View(PyCall call, string key, StorageSlice slice, object offsetArg, object sizeArg, object strideArg, bool isParameter)
    {
        if (offsetArg is not long offset || offset < 0)
        {
            throw Fail(call, key, "storage offset must be a non-negative integer");
        }
        var shape = Dimensions(call, key, sizeArg, "size");
        var strides = Dimensions(call, key, strideArg, "stride");
        if (shape.Length != strides.Length)
        {
            throw Fail(call, key, $"size has {shape.Length} dimensions but stride has {strides.Length}");
        }
        long count = CheckExtent(call, key, shape, strides, offset, slice);
        return new TensorInfo(key, slice.Root.DType!.Value, shape, strides, offset, count, isParameter, slice);
    }

    private void BindDType(PyCall call, string key, StorageRef storage, object dtypeArg)
    {
        if (dtypeArg is not PyGlobal g || !AllowList.TryDType(g, out var dtype))
        {
            throw Fail(call, key, $"the dtype argument is a {PyValue.TypeName(dtypeArg)}, not a torch dtype");
        }
        if (storage.DType is { } bound && bound != dtype)
        {
            throw Fail(call, key, $"storage '{storage.Key}' is viewed as both {bound.Name()} and {dtype.Name()}");
        }
        if (storage.Untyped && storage.Size % dtype.ElementSize() != 0)
        {
            throw Fail(call, key, $"storage '{storage.Key}' has {storage.Size} bytes, not a whole number of {dtype.Name()} elements");
        }
        storage.DType = dtype;
    }

    internal ImmutableArray<long> Dimensions(PyCall call, string key, object value, string what)
    {
        var tuple = value switch
        {
            PyTuple t => t,
            PyCall { Global: { FullName: AllowList.Size }, Args.Items: [PyTuple t] } => t,
            _ => throw Fail(call, key, $"{what} is a {PyValue.TypeName(value)}, not a tuple"),
        };
        if (tuple.Items.Length > limits.MaxRank)
        {
            throw Fail(call, key, $"{what} has {tuple.Items.Length} dimensions, over the budget of {limits.MaxRank} (CheckpointLimits.MaxRank)");
        }
        var dims = new long[tuple.Items.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = tuple.Items[i] is long d && d >= 0 ? d : throw Fail(call, key, $"{what} holds {tuple.Items[i]}, not a non-negative integer");
        }
        return System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(dims);
    }

    /// <summary>Checks that every element the view can address lies inside the storage; returns the element count.</summary>
    private long CheckExtent(PyCall call, string key, ImmutableArray<long> shape, ImmutableArray<long> strides, long offset, StorageSlice slice)
    {
        long count = 1;
        long last = offset;
        try
        {
            for (int i = 0; i < shape.Length; i++)
            {
                count = checked(count * shape[i]);
                if (shape[i] > 0)
                {
                    last = checked(last + checked((shape[i] - 1) * strides[i]));
                }
            }
        }
        catch (OverflowException)
        {
            throw Fail(call, key, "size and stride overflow a 64-bit element index");
        }
        if (count > 1 << 20 && count / limits.MaxExpansion > slice.ElementCount)
        {
            throw Fail(call, key,
                $"the view has {count} elements but its storage only {slice.ElementCount}; materializing it would exceed the budget of {limits.MaxExpansion}x (CheckpointLimits.MaxExpansion)");
        }
        if (count > 0 && last >= slice.ElementCount)
        {
            throw Fail(call, key,
                $"the view reaches element {last} but storage '{slice.Root.Key}' holds {slice.ElementCount} (offset {offset}, size [{string.Join(", ", shape)}], stride [{string.Join(", ", strides)}])");
        }
        return count;
    }

    /// <summary>A tensor kind torch can save that StateDict does not read: "unsupported: ..." (exit 1, never "unsafe").</summary>
    internal CheckpointFormatException Unsupported(PyCall call, string problem) =>
        new(source.FilePath, $"{source.Part} byte {call.Offset}: unsupported: {problem}");

    internal CheckpointCorruptException Fail(PyCall call, string key, string problem) =>
        source.Corrupt(call.Offset, $"tensor '{key}': {problem}");
}
