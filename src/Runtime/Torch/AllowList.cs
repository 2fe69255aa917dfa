using StateDict.Pickle;
using StateDict.Safety;

namespace StateDict.Torch;

/// <summary>
/// The Python globals a checkpoint may name: what <c>torch.load(weights_only=True)</c> accepts as plain data
/// (torch/_weights_only_unpickler.py, <c>_get_allowed_globals</c>), each with what it is to StateDict. A name on this
/// list is still never resolved or called: <see cref="TorchReader"/> interprets each one as data, and refuses the
/// kinds it cannot read yet (<see cref="GlobalKind.Unsupported"/>) as unsupported, not unsafe. Which names a file may
/// use beyond this table is decided by <see cref="GlobalPolicy"/>.
/// </summary>
internal static class AllowList
{
    public const string RebuildTensor = "torch._utils._rebuild_tensor";
    public const string RebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
    public const string RebuildTensorV3 = "torch._utils._rebuild_tensor_v3";
    public const string RebuildParameter = "torch._utils._rebuild_parameter";
    public const string RebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";
    public const string RebuildMetaTensor = "torch._utils._rebuild_meta_tensor_no_storage";
    public const string RebuildFromTypeV2 = "torch._tensor._rebuild_from_type_v2";
    public const string Tensor = "torch.Tensor";
    public const string Parameter = "torch.nn.parameter.Parameter";
    public const string OrderedDict = "collections.OrderedDict";
    public const string Counter = "collections.Counter";
    public const string Size = "torch.Size";
    public const string Device = "torch.device";
    public const string UntypedStorage = "torch.storage.UntypedStorage";
    public const string CodecsEncode = "_codecs.encode";
    public const string Set = "builtins.set";
    public const string FrozenSet = "builtins.frozenset";
    public const string ByteArray = "builtins.bytearray";
    public const string Complex = "builtins.complex";
    public const string RebuildSparseTensor = "torch._utils._rebuild_sparse_tensor";
    public const string RebuildSparseCsrTensor = "torch._utils._rebuild_sparse_csr_tensor";
    public const string RebuildQTensor = "torch._utils._rebuild_qtensor";
    public const string GetLayout = "torch.serialization._get_layout";

    /// <summary>The qschemes (<c>torch.per_tensor_affine</c>, ...) and quantized dtypes (<c>torch.qint8</c>, ...) as globals: data.</summary>
    public static readonly IReadOnlySet<string> QuantizationGlobals = new HashSet<string>
    {
        "torch.per_tensor_affine", "torch.per_channel_affine", "torch.per_channel_affine_float_qparams",
        "torch.per_tensor_symmetric", "torch.per_channel_symmetric",
        "torch.qint8", "torch.quint8", "torch.qint32", "torch.quint4x2", "torch.quint2x4",
    };

    /// <summary>Plain pickles only: a storage embedded as legacy torch.save bytes (read as data, see <c>EmbeddedPayload</c>).</summary>
    public const string LoadFromBytes = "torch.storage._load_from_bytes";

    /// <summary>Typed storage classes (module <c>torch</c>) and the dtype each holds.</summary>
    public static readonly IReadOnlyDictionary<string, DType> StorageTypes = new Dictionary<string, DType>
    {
        ["torch.DoubleStorage"] = DType.Float64,
        ["torch.FloatStorage"] = DType.Float32,
        ["torch.HalfStorage"] = DType.Float16,
        ["torch.BFloat16Storage"] = DType.BFloat16,
        ["torch.LongStorage"] = DType.Int64,
        ["torch.IntStorage"] = DType.Int32,
        ["torch.ShortStorage"] = DType.Int16,
        ["torch.CharStorage"] = DType.Int8,
        ["torch.ByteStorage"] = DType.UInt8,
        ["torch.BoolStorage"] = DType.Bool,
        ["torch.ComplexFloatStorage"] = DType.Complex64,
        ["torch.ComplexDoubleStorage"] = DType.Complex128,
    };

    /// <summary>Quantized storages (read by <c>_rebuild_qtensor</c>).</summary>
    public static readonly IReadOnlySet<string> QuantizedStorageTypes = new HashSet<string>
    {
        "torch.QInt8Storage", "torch.QInt32Storage", "torch.QUInt8Storage", "torch.QUInt4x2Storage", "torch.QUInt2x4Storage",
    };

    /// <summary>
    /// The legacy typed tensor classes (<c>torch.FloatTensor</c>, …): pre-0.4 pickles build a tensor as
    /// <c>torch.FloatTensor()</c> plus a BUILD state <c>(storage, offset, size, stride)</c>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, DType> TensorTypes =
        StorageTypes.ToDictionary(p => p.Key.Replace("Storage", "Tensor", StringComparison.Ordinal), p => p.Value);

    /// <summary>
    /// Every other name <c>weights_only</c> accepts, by kind. One row per name, so that adding a reader for a kind
    /// (sparse, quantized) is a one-line change here.
    /// </summary>
    private static readonly Dictionary<string, GlobalKind> Table = new(StringComparer.Ordinal)
    {
        [RebuildTensor] = GlobalKind.Tensor,
        [RebuildTensorV2] = GlobalKind.Tensor,
        [RebuildTensorV3] = GlobalKind.Tensor,
        [RebuildParameter] = GlobalKind.Tensor,
        [RebuildParameterWithState] = GlobalKind.Tensor,
        [OrderedDict] = GlobalKind.Data,
        [Counter] = GlobalKind.Data,
        [Size] = GlobalKind.Data,
        [Device] = GlobalKind.Data,
        [CodecsEncode] = GlobalKind.Data,
        [Set] = GlobalKind.Data,
        [ByteArray] = GlobalKind.Data,
        [Complex] = GlobalKind.Data,
        [UntypedStorage] = GlobalKind.Storage,
        ["torch.UntypedStorage"] = GlobalKind.Unsupported,
        ["torch.storage.TypedStorage"] = GlobalKind.Unsupported,
        ["torch.TypedStorage"] = GlobalKind.Unsupported,
        [Tensor] = GlobalKind.Tensor,
        [Parameter] = GlobalKind.Tensor,
        [GetLayout] = GlobalKind.Data,
        [RebuildFromTypeV2] = GlobalKind.Tensor,
        [RebuildQTensor] = GlobalKind.Tensor,
        [RebuildSparseTensor] = GlobalKind.Tensor,
        [RebuildSparseCsrTensor] = GlobalKind.Tensor,
        [RebuildMetaTensor] = GlobalKind.Tensor,
        ["torch._utils._rebuild_wrapper_subclass"] = GlobalKind.Unsupported,
        [OpaqueCustomClass.ScriptObject] = GlobalKind.Unsupported, // PyTorch's own opaque custom-class object: "unsupported", not "unsafe"
        ["torch._utils._rebuild_device_tensor_from_numpy"] = GlobalKind.Unsupported,
        ["torch._utils._rebuild_device_tensor_from_cpu_tensor"] = GlobalKind.Unsupported,
    };

    /// <summary>The <c>torch._tensor_classes</c> (<c>torch.FloatTensor</c>, <c>torch.cuda.FloatTensor</c>, …) by type name.</summary>
    private static readonly HashSet<string> TensorClassNames = new(StringComparer.Ordinal)
    {
        "DoubleTensor", "FloatTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
        "ByteTensor", "BoolTensor",
    };

    /// <summary>The dtypes <c>str(dtype)</c> names that StateDict has no element type for (yet).</summary>
    private static readonly HashSet<string> OtherDTypeNames = new(StringComparer.Ordinal)
    {
        "complex32", "chalf", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16",
        "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
        "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4", "int5", "int6", "int7",
    };

    /// <summary>What <paramref name="global"/> is to StateDict, or null when it is not on the list.</summary>
    public static GlobalKind? KindOf(PyGlobal global)
    {
        if (Table.TryGetValue(global.FullName, out var kind))
        {
            return kind;
        }
        if (StorageTypes.ContainsKey(global.FullName))
        {
            return GlobalKind.Storage;
        }
        if (TryDType(global, out _) || QuantizationGlobals.Contains(global.FullName))
        {
            return GlobalKind.DType;
        }
        if (QuantizedStorageTypes.Contains(global.FullName))
        {
            return GlobalKind.Storage;
        }
        if (TensorTypes.ContainsKey(global.FullName))
        {
            return GlobalKind.Tensor;
        }
        bool cuda = global.Module == "torch.cuda";
        if ((global.Module is "torch" or "torch.cuda" && TensorClassNames.Contains(global.Name))
            || (cuda && (StorageTypes.ContainsKey("torch." + global.Name) || QuantizedStorageTypes.Contains("torch." + global.Name)))
            || (global.Module == "torch" && OtherDTypeNames.Contains(global.Name)))
        {
            return GlobalKind.Unsupported;
        }
        return null;
    }

    public static bool IsAllowed(PyGlobal global) => KindOf(global) is not null;

    /// <summary>A dtype named as a global, e.g. <c>torch.float32</c> (how <c>_rebuild_tensor_v3</c> passes it).</summary>
    public static bool TryDType(PyGlobal global, out DType dtype)
    {
        dtype = default;
        return global.Module == "torch" && DTypeInfo.TryParse(global.Name, out dtype);
    }

    /// <summary>
    /// TorchScript's own globals: the <c>__torch__.*</c> classes of the archive's modules and <c>torch.jit._pickle</c>'s
    /// list builders and type tags. Data inside a TorchScript archive, never allowed in a torch.save file.
    /// </summary>
    public static bool IsTorchScript(PyGlobal global) =>
        global.Module == "__torch__" || global.Module.StartsWith("__torch__.", StringComparison.Ordinal) || global.Module == "torch.jit._pickle";

    /// <summary>Throws, listing every global of the pickle that <paramref name="policy"/> does not accept, if there is any.</summary>
    public static void Check(PickleResult pickle, PickleSource source, ReadPolicy policy)
    {
        var refused = pickle.Globals.Where(g => !policy.Tolerates(g)).ToList();
        if (refused.Count == 0)
        {
            return;
        }
        var listed = string.Join(", ", refused.Select(g => $"{g.FullName} (byte {g.Offset})"));
        string hint = refused.Any(g => g.Module == "__main__" || g.Module.StartsWith("torch.nn", StringComparison.Ordinal))
            ? " This looks like a whole pickled model (torch.save(model)); save model.state_dict() instead" +
              (refused.All(g => policy.Decide(g).Risk == GlobalRisk.UnknownClass)
                  ? ", or read its tensors without running anything with LoadOptions.AllowModulePickles (--allow-module-pickles)."
                  : ".")
            : "";
        throw new CheckpointUnsafeException(source.FilePath,
            $"refused: {source.Part} references {(refused.Count == 1 ? "a global" : "globals")} outside the allow-list: {listed}. " +
            $"Loading it with Python's pickle would import and call {(refused.Count == 1 ? "it" : "them")}; StateDict executed nothing.{hint} " +
            $"All globals it references: {string.Join(", ", pickle.Globals.Select(g => g.FullName))}.",
            refused.Select(g => g.FullName).ToList());
    }
}
