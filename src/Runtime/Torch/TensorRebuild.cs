using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Turns torch's tensor rebuild calls into <see cref="TensorInfo"/>:
/// <c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])</c>,
/// <c>_rebuild_tensor_v3(..., dtype[, metadata])</c>, <c>_rebuild_tensor(storage, offset, size, stride)</c> and the
/// <c>_rebuild_parameter</c> wrappers; <c>_rebuild_meta_tensor_no_storage</c> (no data);
/// <c>torch._tensor._rebuild_from_type_v2</c> around any of them (a tensor carrying plain Python attributes, which are
/// not kept); and the pre-0.4 form, a <c>torch.FloatTensor()</c> (or <c>torch.Tensor</c>) given its
/// <c>(storage, offset, size, stride)</c> by BUILD. torch ≥ 2.0's conj/neg view metadata is kept on the
/// <see cref="TensorInfo"/>. Every extent is checked against the storage before a byte is read.
/// </summary>
internal sealed class TensorRebuild(StorageTable storages, PickleSource source, CheckpointLimits limits)
{
    private const int MaxSharedDimensions = 4096;

    private readonly Dictionary<(int Rank, long D0, long D1, long D2), ImmutableArray<long>> _dimensions = [];

    public static bool IsTensor(object value) => value is PyCall { Global: { } g } call && (g.FullName is
        AllowList.RebuildTensor or AllowList.RebuildTensorV2 or AllowList.RebuildTensorV3
        or AllowList.RebuildParameter or AllowList.RebuildParameterWithState
        or AllowList.RebuildMetaTensor or AllowList.RebuildFromTypeV2 || IsLegacyTensor(call));

    /// <summary><c>torch.FloatTensor()</c> / <c>torch.Tensor.__new__</c> with no arguments and one BUILD state.</summary>
    private static bool IsLegacyTensor(PyCall call) =>
        (call.Global!.FullName == AllowList.Tensor || AllowList.TensorTypes.ContainsKey(call.Global.FullName))
        && call.Args.Items.Count == 0 && call.Kind != CallKind.Instantiate && call.States.Count == 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TensorInfo Build(string key, PyCall call)
    {
        var args = call.Args.Items;
        switch (call.Global!.FullName)
        {
            case AllowList.RebuildParameter:
            case AllowList.RebuildParameterWithState:
                if (args.Count < 1 || args[0] is not PyCall data || !IsTensor(data) || data.Global!.FullName is AllowList.RebuildParameter or AllowList.RebuildParameterWithState)
                {
                    throw Fail(call, key, "_rebuild_parameter needs a tensor as its first argument");
                }
                return Reparented(Build(key, data), isParameter: true);
            case AllowList.RebuildFromTypeV2:
                return FromType(key, call);
            case AllowList.RebuildMetaTensor:
                return Meta(key, call);
            case AllowList.RebuildTensor or AllowList.RebuildTensorV2 or AllowList.RebuildTensorV3:
                return Tensor(key, call, isParameter: false);
            default:
                return Legacy(key, call);
        }
    }

    private static TensorInfo Reparented(TensorInfo t, bool isParameter) =>
        new(t.Key, t.DType, t.Shape, t.Strides, t.StorageOffset, t.ElementCount, isParameter, t.Storage)
        {
            IsConjugate = t.IsConjugate, IsNegative = t.IsNegative, IsMeta = t.IsMeta,
        };

    /// <summary>
    /// <c>_rebuild_from_type_v2(func, new_type, args, state)</c>: <c>func(*args)</c> as <c>new_type</c> (torch.Tensor or
    /// Parameter), then the Python attributes in <c>state</c> (a dict, or a (dict, slots) pair, of plain values) set on it.
    /// </summary>
    private TensorInfo FromType(string key, PyCall call)
    {
        if (call.Args.Items is not [PyGlobal func, PyGlobal type, PyTuple args, var state])
        {
            throw Fail(call, key, "_rebuild_from_type_v2 takes (func, new_type, args, state)");
        }
        if (type.FullName is not (AllowList.Tensor or AllowList.Parameter))
        {
            throw Unsupported(call, key, $"{type.FullName} subclass");
        }
        if (!IsPlainState(state))
        {
            throw Unsupported(call, key, $"{type.FullName} with a {PyValue.TypeName(state)} state that is not plain data");
        }
        var inner = new PyCall(func, args, CallKind.Reduce, call.Offset);
        if (!IsTensor(inner) || func.FullName == AllowList.RebuildFromTypeV2)
        {
            throw Unsupported(call, key, $"{func.FullName}");
        }
        var tensor = Build(key, inner);
        return type.FullName == AllowList.Parameter && !tensor.IsParameter ? Reparented(tensor, isParameter: true) : tensor;
    }

    private static bool IsPlainState(object state) => state switch
    {
        PyNone => true,
        PyDict dict => dict.Items.All(p => p.Key is string && IsPlain(p.Value)),
        PyTuple { Items: [var dict, var slots] } => IsPlainState(dict) && IsPlainState(slots),
        _ => false,
    };

    private static bool IsPlain(object value) => value is PyNone or string or long or System.Numerics.BigInteger or double or bool;

    /// <summary><c>_rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad)</c>: a shape and dtype, no data.</summary>
    private TensorInfo Meta(string key, PyCall call)
    {
        if (call.Args.Items is not [var dtypeArg, var size, var stride, bool])
        {
            throw Fail(call, key, "_rebuild_meta_tensor_no_storage takes (dtype, size, stride, requires_grad)");
        }
        if (dtypeArg is not PyGlobal g || !AllowList.TryDType(g, out var dtype))
        {
            throw Fail(call, key, $"the dtype argument is a {PyValue.TypeName(dtypeArg)}, not a torch dtype");
        }
        var shape = Dimensions(call, key, size, "size");
        var strides = Dimensions(call, key, stride, "stride");
        if (shape.Length != strides.Length)
        {
            throw Fail(call, key, $"size has {shape.Length} dimensions but stride has {strides.Length}");
        }
        long count = 1;
        foreach (long d in shape)
        {
            count = d == 0 || count <= long.MaxValue / d ? count * d : throw Fail(call, key, "size overflows a 64-bit element count");
        }
        var nothing = new StorageSlice(new StorageRef("", dtype, 0, untyped: false, call.Offset), 0, 0);
        return new TensorInfo(key, dtype, shape, strides, 0, count, isParameter: false, nothing) { IsMeta = true };
    }

    /// <summary>The pre-0.4 form: <c>torch.FloatTensor()</c> then BUILD <c>(storage, offset, size, stride)</c> (Tensor.set_).</summary>
    private TensorInfo Legacy(string key, PyCall call)
    {
        if (call.States[0] is not PyTuple { Items.Count: 4 } state)
        {
            throw Unsupported(call, key, $"{call.Global!.FullName} with a {PyValue.TypeName(call.States[0])} state");
        }
        var tensor = Tensor(key, new PyCall(call.Callable, state, CallKind.Reduce, call.Offset), isParameter: false, "torch.Tensor.set_");
        if (AllowList.TensorTypes.TryGetValue(call.Global!.FullName, out var declared) && declared != tensor.DType)
        {
            throw Fail(call, key, $"a {call.Global.FullName} cannot hold a {tensor.DType.Name()} storage");
        }
        return tensor;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private TensorInfo Tensor(string key, PyCall call, bool isParameter, string? form = null)
    {
        var args = call.Args.Items;
        string name = form ?? call.Global!.Name;
        int expected = name switch
        {
            "_rebuild_tensor" or "torch.Tensor.set_" => 4,
            "_rebuild_tensor_v2" => 6,
            _ => 7,
        };
        if (args.Count < expected || args.Count > expected + 1 || (expected == 4 && args.Count != 4))
        {
            throw Fail(call, key, $"{name} takes {expected} arguments, got {args.Count}");
        }
        var slice = Storage(call, key, args[0]);
        if (slice.Root.Quantized is { } quantized)
        {
            throw Fail(call, key, $"{name} views storage '{slice.Root.Key}' of quantized dtype {quantized.Name()}; only _rebuild_qtensor may");
        }
        DType? viewed = null;
        if (name == "_rebuild_tensor_v3")
        {
            viewed = BindDType(call, key, slice.Root, args[6]);
        }
        else if (slice.Root.Untyped)
        {
            throw Fail(call, key, $"{name} needs a typed storage but '{slice.Root.Key}' is untyped");
        }
        var (conjugate, negative) = args.Count > expected ? ViewMetadata(call, key, args[expected]) : (false, false);
        return View(call, key, slice, args[1], args[2], args[3], isParameter, viewed, conjugate, negative);
    }

    /// <summary>The storage a rebuild call's storage argument names.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal StorageSlice Storage(PyCall call, string key, object argument) =>
        storages.TryResolve(argument, out var slice) ? slice
        : throw Fail(call, key, $"the storage argument is a {PyValue.TypeName(argument)}, not a storage reference");

    /// <summary>A strided view of a typed storage: offset, size and stride checked against it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal TensorInfo View(PyCall call, string key, StorageSlice slice, object offsetArg, object sizeArg, object strideArg, bool isParameter,
        DType? viewed = null, bool conjugate = false, bool negative = false)
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
        var dtype = viewed ?? slice.Root.DType!.Value;
        if (!Reading.ViewSigns.Supports(dtype, conjugate, negative))
        {
            throw Unsupported(call, key, $"{(conjugate ? "conjugate" : "negative")} {dtype.Name()}");
        }
        return new TensorInfo(key, dtype, shape, strides, offset, count, isParameter, slice) { IsConjugate = conjugate, IsNegative = negative };
    }

    /// <summary>
    /// torch ≥ 2.0's last <c>_rebuild_tensor_v2/v3</c> argument: <c>torch._utils.get_tensor_metadata</c>, a dict holding
    /// <c>'conj': True</c> and/or <c>'neg': True</c> (set_tensor_metadata restores the view bits). Other keys are refused.
    /// </summary>
    private (bool Conjugate, bool Negative) ViewMetadata(PyCall call, string key, object metadata)
    {
        var pairs = metadata switch
        {
            PyNone => [],
            PyDict dict => dict.Items,
            PyCall { Global.FullName: AllowList.OrderedDict, Kind: CallKind.Reduce, Args.Items: [] } ordered => ordered.SetItems,
            _ => throw Fail(call, key, $"the tensor metadata is a {PyValue.TypeName(metadata)}, not a dict"),
        };
        bool conjugate = false, negative = false;
        foreach (var (name, value) in pairs)
        {
            switch (name, value)
            {
                case ("conj", bool b): conjugate = b; break;
                case ("neg", bool b): negative = b; break;
                default: throw Unsupported(call, key, $"tensor metadata '{name}'");
            }
        }
        return (conjugate, negative);
    }

    /// <summary>The dtype a v3 rebuild views its (untyped) storage as; an empty storage may be viewed as several.</summary>
    private DType BindDType(PyCall call, string key, StorageRef storage, object dtypeArg)
    {
        if (dtypeArg is not PyGlobal g || !AllowList.TryDType(g, out var dtype))
        {
            throw Fail(call, key, $"the dtype argument is a {PyValue.TypeName(dtypeArg)}, not a torch dtype");
        }
        if (storage.Size == 0)
        {
            storage.DType ??= dtype;
            return dtype;
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
        return dtype;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ImmutableArray<long> Dimensions(PyCall call, string key, object value, string what)
    {
        var tuple = value switch
        {
            PyTuple t => t,
            PyCall { Global: { FullName: AllowList.Size }, Args.Items: [PyTuple t] } => t,
            _ => throw Fail(call, key, $"{what} is a {PyValue.TypeName(value)}, not a tuple"),
        };
        if (tuple.Items.Count > limits.MaxRank)
        {
            throw Fail(call, key, $"{what} has {tuple.Items.Count} dimensions, over the budget of {limits.MaxRank} (CheckpointLimits.MaxRank)");
        }
        // On the stack up to the default rank budget; a larger budget a caller chose gets an array.
        Span<long> dims = tuple.Items.Count <= 64 ? stackalloc long[64] : new long[tuple.Items.Count];
        dims = dims[..tuple.Items.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = tuple.Items[i] is long d && d >= 0 ? d : throw Fail(call, key, $"{what} holds {tuple.Items[i]}, not a non-negative integer");
        }
        return Shared(dims);
    }

    /// <summary>
    /// One array per distinct size or stride of rank 3 or less: immutable, so tensors of one shape share it (a
    /// 20,000-tensor checkpoint has a handful of shapes). The table is bounded; past it, arrays are not shared.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ImmutableArray<long> Shared(ReadOnlySpan<long> dims)
    {
        if (dims.Length > 3)
        {
            return System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(dims.ToArray());
        }
        var shapeKey = (dims.Length, dims.Length > 0 ? dims[0] : 0, dims.Length > 1 ? dims[1] : 0, dims.Length > 2 ? dims[2] : 0);
        if (_dimensions.TryGetValue(shapeKey, out var shared))
        {
            return shared;
        }
        var array = System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(dims.ToArray());
        if (_dimensions.Count < MaxSharedDimensions)
        {
            _dimensions.Add(shapeKey, array);
        }
        return array;
    }

    /// <summary>Checks that every element the view can address lies inside the storage; returns the element count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>A tensor kind PyTorch writes that StateDict does not read: exit 1, never "unsafe".</summary>
    private CheckpointFormatException Unsupported(PyCall call, string key, string kind) =>
        new(source.FilePath, $"{source.Part} byte {call.Offset}: unsupported: {kind} tensor at '{key}'");

    internal CheckpointCorruptException Fail(PyCall call, string key, string problem) =>
        source.Corrupt(call.Offset, $"tensor '{key}': {problem}");
}
