using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>
/// torch.ops custom-class objects (a quantized Linear's packed weights) are PyTorch's own but opaque: refused as
/// "unsupported" naming the class and key (exit 1), never "unsafe", never skipped. Both files were written by torch 1.13.
/// </summary>
public class OpaqueCustomClassTests
{
    [Fact]
    public void A_torchscript_quantized_model_is_refused_at_its_packed_params()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(Fixtures.PathOf("kinds/quantized_scripted.pt")));
        Assert.Contains("unsupported: opaque torch.ops custom class object (torch.classes.quantized.LinearPackedParamsBase) at 'fc._packed_params._packed_params'",
            error.Message, StringComparison.Ordinal);
        Assert.Contains("quantized_scripted.pt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torch_saved_script_object_is_unsupported_not_unsafe()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(Fixtures.PathOf("kinds/script_object.pth")));
        Assert.Contains("unsupported: opaque torch.ops custom class object (torch.ScriptObject) at 'packed'", error.Message, StringComparison.Ordinal);
    }
}
