using StateDict.Pickle;

namespace StateDict.Torch;

/// <summary>
/// The state a TorchScript object pickles through its own <c>__getstate__</c> (a tuple, not an attribute dict): laid out by
/// the class's code, which is never read. A quantized <c>Conv2d</c> keeps its weight, bias, scale and zero point there, so
/// such a state holding tensors is refused as unsupported, never skipped; one holding no tensors (configuration) is not
/// part of the state dict.
/// </summary>
internal static class ScriptState
{
    /// <summary>True when <paramref name="obj"/>'s state holds a tensor of any kind or an opaque custom-class object.</summary>
    public static bool HoldsTensors(PyCall obj)
    {
        // Iterative, each container once: memoised sharing must not make the walk exponential.
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object>(obj.States.Concat(obj.Appended).Concat(obj.SetItems.Select(p => p.Value)));
        while (pending.Count > 0)
        {
            var value = pending.Pop();
            if (!seen.Add(value))
            {
                continue;
            }
            switch (value)
            {
                case PyCall call when TensorRebuild.IsTensor(call) || SparseRebuild.IsSparse(call) || QuantizedRebuild.IsQuantized(call) || OpaqueCustomClass.Is(call):
                    return true;
                case PyCall call:
                    Push(pending, call.Args.Items.Concat(call.States).Concat(call.Appended).Concat(call.SetItems.Select(p => p.Value)));
                    break;
                case PyTuple tuple:
                    Push(pending, tuple.Items);
                    break;
                case PyList list:
                    Push(pending, list.Items);
                    break;
                case PyDict dict:
                    Push(pending, dict.Items.Select(p => p.Value));
                    break;
            }
        }
        return false;
    }

    public static CheckpointFormatException Refuse(string path, string part, PyCall obj, string key) =>
        new(path, $"{part} byte {obj.Offset}: unsupported: TorchScript object with its own __getstate__ ({ReadPolicy.ClassOf(obj)!.FullName}) " +
            $"holding tensors at '{key}' (its {(obj.States.Count == 1 ? PyValue.TypeName(obj.States[0]) : "state")} is laid out by the class's code); " +
            "save the model's state_dict() with torch.save instead");

    private static void Push(Stack<object> pending, IEnumerable<object> values)
    {
        foreach (var value in values)
        {
            pending.Push(value);
        }
    }
}
