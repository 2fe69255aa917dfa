using System.Numerics.Tensors;
using StateDict;

namespace Digits;

/// <summary>
/// The classifier in digits_mlp.pth. The source generator reads the checkpoint's schema (the
/// <c>StateDictCheckpoint</c> item in Digits.csproj) and adds <c>Load</c> and the
/// typed properties <c>Hidden.Weight</c> [128, 64], <c>Hidden.Bias</c> [128], <c>Out.Weight</c> [10, 128] and
/// <c>Out.Bias</c> [10].
/// </summary>
[StateDictSchema("digits_mlp.pth")]
public partial class DigitsMlp
{
    /// <summary>
    /// The PyTorch model's forward pass (tests/fixtures/make_fixtures.py):
    /// <c>Sequential(hidden=Linear(64, 128), act=ReLU(), out=Linear(128, 10))</c>.
    /// </summary>
    /// <param name="images">A batch of images [n, 64], row-major, pixels in [0, 1].</param>
    /// <returns>The logits [n, 10], row-major.</returns>
    public float[] Forward(ReadOnlySpan<float> images)
    {
        float[] hidden = Linear(images, Hidden.Weight, Hidden.Bias);
        TensorPrimitives.Max(hidden, 0f, hidden); // ReLU
        return Linear(hidden, Out.Weight, Out.Bias);
    }

    /// <summary>nn.Linear on a batch: y = x Wᵀ + b, where W is stored [outputs, inputs].</summary>
    private static float[] Linear(ReadOnlySpan<float> x, TensorView<float> weight, TensorView<float> bias)
    {
        int outputs = (int)weight.Shape[0], inputs = (int)weight.Shape[1];
        if (x.Length % inputs != 0)
        {
            throw new ArgumentException($"{weight.Key} takes rows of {inputs} values; got {x.Length} values");
        }

        // Wᵀ [inputs, outputs]: row i is column i of W, the weights that input i contributes to every output.
        var wt = new float[weight.Length];
#pragma warning disable SYSLIB5001 // System.Numerics.Tensors' Tensor<T> is marked experimental
        Tensor.Transpose(weight.ToTensor()).FlattenTo(wt);
#pragma warning restore SYSLIB5001

        var y = new float[x.Length / inputs * outputs];
        for (int n = 0; n < y.Length / outputs; n++)
        {
            ReadOnlySpan<float> xn = x.Slice(n * inputs, inputs);
            Span<float> yn = y.AsSpan(n * outputs, outputs);
            // y[n] = x[n, 0] W[:, 0] + x[n, 1] W[:, 1] + ...: each output summed in input order, one rounding per
            // multiply and per add, whatever the CPU's vector width. That is the order PyTorch's CPU kernel used,
            // so the logits come out bit for bit the same. (One TensorPrimitives.Dot per output row is simpler, but
            // its vectorised partial sums depend on the CPU: up to 1.3e-5 off here on a machine without AVX2.)
            for (int i = 0; i < inputs; i++)
            {
                TensorPrimitives.MultiplyAdd(wt.AsSpan(i * outputs, outputs), xn[i], yn, yn);
            }
            TensorPrimitives.Add(yn, bias.Span, yn);
        }
        return y;
    }
}
