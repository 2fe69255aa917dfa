using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// Objects of torch.ops custom classes (<c>torch.classes.quantized.LinearPackedParamsBase</c>,
/// <c>Conv2dPackedParamsBase</c>, ...): TorchScript pickles them as <c>__torch__.torch.classes.NAMESPACE.CLASS</c> with a
/// state only the C++ class's <c>__setstate__</c> understands, <c>torch.save</c> as <c>torch.ScriptObject</c>. They are
/// PyTorch's own data, not code, but opaque: refused as unsupported, naming the class and the key, never skipped.
/// </summary>
internal static class OpaqueCustomClass
{
    /// <summary>What <c>torch.save</c> pickles a <c>torch.ScriptObject</c> as (NEWOBJ, then BUILD with its state).</summary>
    public const string ScriptObject = "torch.ScriptObject";

    private const string ScriptPrefix = "__torch__.torch.classes.";

    public static bool Is(PyCall call) =>
        ReadPolicy.ClassOf(call) is { } cls && (cls.FullName == ScriptObject || cls.FullName.StartsWith(ScriptPrefix, StringComparison.Ordinal));

    public static CheckpointFormatException Refuse(string path, string part, PyCall call, string key)
    {
        string name = ReadPolicy.ClassOf(call)!.FullName;
        name = name.StartsWith(ScriptPrefix, StringComparison.Ordinal) ? name["__torch__.".Length..] : name;
        return new CheckpointFormatException(path, $"{part} byte {call.Offset}: unsupported: opaque torch.ops custom class object ({name}) at '{key}'");
    }
}
