using StateDict.Pickle;
using StateDict.Safety;

namespace StateDict.Torch;

/// <summary>
/// Which globals a pickle may name, and which objects are walked for tensors, given the container it came from and
/// the caller's opt-in. The decision on each name is <see cref="GlobalPolicy"/>'s, shared with the scanner; this adds
/// only the opt-in: under <see cref="LoadOptions.AllowModulePickles"/>, globals it rates <see cref="GlobalRisk.UnknownClass"/>
/// (the classes of a pickled <c>nn.Module</c>) are tolerated too; never code-running or file/network ones. Every one of
/// them is still only a name: nothing is resolved or run.
/// </summary>
internal sealed record ReadPolicy(CheckpointFormat Format, bool AllowModulePickles = false)
{
    /// <summary>A torch.save file (zip or legacy) without opt-ins.</summary>
    public static ReadPolicy Default { get; } = new(CheckpointFormat.Zip);

    public bool TorchScript => Format == CheckpointFormat.TorchScript;

    /// <summary>Storages may be embedded in the pickle by <c>_load_from_bytes</c> (plain pickles only).</summary>
    public bool EmbeddedStorages => Format == CheckpointFormat.Pickle;

    /// <summary>The shared policy's verdict on <paramref name="global"/> in this kind of file.</summary>
    public GlobalDecision Decide(PyGlobal global) => GlobalPolicy.Decide(global, Format);

    /// <summary>Whether a global is accepted as a name in this file.</summary>
    public bool Tolerates(PyGlobal global) => Decide(global).Risk switch
    {
        GlobalRisk.Allowed => true,
        // TorchScript names outside a TorchScript archive stay refused: no module pickle names them.
        GlobalRisk.UnknownClass => AllowModulePickles && !AllowList.IsTorchScript(global),
        _ => false,
    };

    /// <summary>Whether a global is neither on <see cref="AllowList"/> nor tolerated here: naming it refuses the file.</summary>
    public bool Refuses(PyGlobal global) => !AllowList.IsAllowed(global) && !Tolerates(global);

    /// <summary>
    /// Whether <paramref name="call"/> is an object to walk by its attributes: <c>cls.__new__(cls)</c> (NEWOBJ) of a
    /// TorchScript class in a TorchScript archive, or of a tolerated class under <see cref="AllowModulePickles"/>.
    /// </summary>
    public bool IsObject(PyCall call) =>
        call.Kind == CallKind.NewObj && ClassOf(call) is { } cls && !AllowList.IsAllowed(cls)
        && ((TorchScript && call.Global is not null && IsScriptClass(cls)) || (AllowModulePickles && IsModuleClass(cls)));

    /// <summary>
    /// The class an object is made from: a global, or, in legacy files, the persistent id
    /// <c>('module', cls, source_file, source)</c> through which torch.save pickled <c>nn.Module</c> classes with their source.
    /// </summary>
    public static PyGlobal? ClassOf(PyCall call) => call.Callable switch
    {
        PyGlobal cls => cls,
        PyPersistentId { Id: PyTuple { Items: ["module", PyGlobal cls, ..] } } => cls,
        _ => null,
    };

    /// <summary>A class of a TorchScript archive's module tree (<c>__torch__.*</c>).</summary>
    public static bool IsScriptClass(PyGlobal global) => AllowList.IsTorchScript(global) && global.Module != "torch.jit._pickle";

    private bool IsModuleClass(PyGlobal global) => Decide(global).Risk == GlobalRisk.UnknownClass;
}
