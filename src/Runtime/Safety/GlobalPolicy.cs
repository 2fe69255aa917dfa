using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Safety;

/// <summary>What an accepted global is to StateDict.</summary>
internal enum GlobalKind
{
    /// <summary>A tensor rebuild (<c>torch._utils._rebuild_tensor_v2</c>, <c>_rebuild_parameter</c>, …).</summary>
    Tensor,
    /// <summary>A storage class named by a persistent id.</summary>
    Storage,
    /// <summary>A dtype (<c>torch.float32</c>).</summary>
    DType,
    /// <summary>A plain value or container (<c>collections.OrderedDict</c>, <c>Counter</c>, <c>builtins.set</c>, <c>torch.Size</c>, …).</summary>
    Data,
    /// <summary>Accepted by <c>weights_only</c> but not read by StateDict yet (sparse, quantized, meta tensors, …): a format refusal, never an unsafe one.</summary>
    Unsupported,
    /// <summary>A TorchScript archive's own classes and helpers (in TorchScript archives only).</summary>
    TorchScript,
    /// <summary><c>torch.storage._load_from_bytes</c> in a plain pickle: its bytes are a nested torch.save file, scanned and read as such.</summary>
    NestedPayload,
    /// <summary>Not accepted: see the decision's <see cref="GlobalDecision.Risk"/>.</summary>
    Refused,
}

/// <summary>The verdict on one global in one kind of file.</summary>
internal readonly record struct GlobalDecision(GlobalRisk Risk, GlobalKind Kind, string Reason);

/// <summary>
/// The one place that decides whether a global a pickle names is safe. <c>scan</c> (<see cref="CheckpointScanner"/>)
/// and <c>inspect</c>/<see cref="Checkpoint.Open(string, LoadOptions?)"/> (through <see cref="ReadPolicy"/> and
/// <see cref="AllowList.Check"/>) both ask it, so a file <c>inspect</c> refuses as unsafe is never clean in <c>scan</c>.
/// The decision depends only on the name and on the kind of file the pickle belongs to: what
/// <c>torch.load(weights_only=True)</c> accepts is allowed (<see cref="AllowList"/>); TorchScript archives may also
/// name their own classes; plain pickles may embed torch.save bytes behind <c>torch.storage._load_from_bytes</c>
/// (whose payloads must be scanned: see <see cref="PayloadBytes"/>); everything else is refused, ranked by what
/// Python would do with it (<see cref="DangerousGlobals"/>).
/// </summary>
internal static partial class GlobalPolicy
{
    public static GlobalDecision Decide(PyGlobal global, CheckpointFormat format)
    {
        if (AllowList.KindOf(global) is { } kind)
        {
            return new(GlobalRisk.Allowed, kind, kind == GlobalKind.Unsupported
                ? "accepted by torch.load(weights_only=True); StateDict does not read this kind of object yet"
                : "on the allow-list");
        }
        if (format == CheckpointFormat.TorchScript && AllowList.IsTorchScript(global))
        {
            return new(GlobalRisk.Allowed, GlobalKind.TorchScript, "TorchScript data (read as data; torch.jit.load would compile the archive's code)");
        }
        if (format == CheckpointFormat.Pickle && global.FullName == AllowList.LoadFromBytes)
        {
            return new(GlobalRisk.Allowed, GlobalKind.NestedPayload, "embedded torch.save bytes (scanned as a nested file)");
        }
        var (risk, reason) = DangerousGlobals.Assess(global);
        return new(risk, GlobalKind.Refused, reason);
    }

    /// <summary>
    /// Whether Python's import machinery could find <paramref name="fullName"/> (a dotted name of identifiers, such as
    /// <c>os.system</c>). For a file that only starts like a protocol 0/1 pickle and then fails, this decides between
    /// "a pickle that named a global" (unsafe when refused) and "not a pickle" (text such as TorchScript's
    /// <c>class Net(Module):</c>, which "names" <c>lass Net(Module):</c>); scan and Open both ask it.
    /// </summary>
    public static bool CouldBeImported(string fullName) => ImportableName().IsMatch(fullName);

    [System.Text.RegularExpressions.GeneratedRegex(@"^[\p{L}_][\p{L}\p{Nd}_]*(\.[\p{L}_][\p{L}\p{Nd}_]*)+$")]
    private static partial System.Text.RegularExpressions.Regex ImportableName();
}
