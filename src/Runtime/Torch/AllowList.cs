using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// The Python globals a checkpoint may name, in the spirit of <c>torch.load(weights_only=True)</c>.
/// A name on this list is still never resolved or called: <see cref="TorchReader"/> interprets each one as data.
/// Any other name makes the whole file refused.
/// </summary>
internal static class AllowList
{
    public const string RebuildTensor = "torch._utils._rebuild_tensor";
    public const string RebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
    public const string RebuildTensorV3 = "torch._utils._rebuild_tensor_v3";
    public const string RebuildParameter = "torch._utils._rebuild_parameter";
    public const string RebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";
    public const string OrderedDict = "collections.OrderedDict";
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

    private static readonly HashSet<string> Others =
    [
        RebuildTensor, RebuildTensorV2, RebuildTensorV3, RebuildParameter, RebuildParameterWithState,
        OrderedDict, Size, Device, UntypedStorage, CodecsEncode, Set, FrozenSet, ByteArray, Complex,
        RebuildSparseTensor, RebuildSparseCsrTensor, RebuildQTensor, GetLayout,
        OpaqueCustomClass.ScriptObject, // PyTorch's own, refused when met as "unsupported" (not "unsafe")
    ];

    public static bool IsAllowed(PyGlobal global) =>
        Others.Contains(global.FullName)
        || StorageTypes.ContainsKey(global.FullName)
        || QuantizedStorageTypes.Contains(global.FullName)
        || QuantizationGlobals.Contains(global.FullName)
        || TryDType(global, out _);

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

    /// <summary>Throws, listing every global of the pickle that is not allowed, if there is any.</summary>
    public static void Check(PickleResult pickle, PickleSource source, string? tolerated = null) =>
        Check(pickle, source, g => g.FullName == tolerated);

    /// <summary>Throws, listing every global of the pickle that is neither allowed nor <paramref name="tolerated"/>, if there is any.</summary>
    public static void Check(PickleResult pickle, PickleSource source, Func<PyGlobal, bool> tolerated)
    {
        var refused = pickle.Globals.Where(g => !IsAllowed(g) && !tolerated(g)).ToList();
        if (refused.Count == 0)
        {
            return;
        }
        var listed = string.Join(", ", refused.Select(g => $"{g.FullName} (byte {g.Offset})"));
        string hint = refused.Any(g => g.Module == "__main__" || g.Module.StartsWith("torch.nn", StringComparison.Ordinal))
            ? " This looks like a whole pickled model (torch.save(model)); save model.state_dict() instead" +
              (refused.All(g => GlobalRisks.Classify(g).Risk == GlobalRisk.UnknownClass)
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
