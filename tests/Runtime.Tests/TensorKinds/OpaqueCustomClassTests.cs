using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>
/// Quantized TorchScript modules hold their weights where no generic reader can name them: a quantized Conv2d in a
/// tuple its own <c>__getstate__</c> lays out, a quantized Linear in a torch.ops custom-class object. Both are refused as
/// "unsupported" naming the class and key (exit 1), never "unsafe", never skipped. All files were written by torch 1.13.
/// </summary>
public class OpaqueCustomClassTests
{
    [Fact]
    public void A_torchscript_quantized_conv_is_refused_at_its_getstate_tuple_not_skipped()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(Fixtures.PathOf("kinds/quantized_scripted.pt")));
        Assert.Contains("unsupported: TorchScript object with its own __getstate__ (__torch__.torch.ao.nn.quantized.modules.conv.Conv2d) holding tensors at 'conv' (its tuple is laid out by the class's code)",
            error.Message, StringComparison.Ordinal);
        Assert.Contains("quantized_scripted.pt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torchscript_quantized_linear_is_refused_at_its_packed_params()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(Fixtures.PathOf("kinds/quantized_linear_scripted.pt")));
        Assert.Contains("unsupported: opaque torch.ops custom class object (torch.classes.quantized.LinearPackedParamsBase) at 'fc._packed_params._packed_params'",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torch_saved_script_object_is_unsupported_not_unsafe()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(Fixtures.PathOf("kinds/script_object.pth")));
        Assert.Contains("unsupported: opaque torch.ops custom class object (torch.ScriptObject) at 'packed'", error.Message, StringComparison.Ordinal);
    }
}
