using System.Numerics.Tensors;

namespace TinyGpt;

/// <summary>The few <c>torch.nn.functional</c> operations the model uses, in float32, in PyTorch's order of operations.</summary>
public static class Functional
{
    /// <summary>
    /// <c>F.linear</c> on rows: y[t] = W x[t] + b, where W is stored [outputs, inputs] and x holds rows of
    /// <c>inputs</c> values. Each output is one dot product in float32; its rounding differs from PyTorch's only
    /// in the order of the partial sums (a few units in the last place).
    /// </summary>
    public static void Linear(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        int outputs = bias.Length, inputs = weight.Length / outputs;
        for (int t = 0; t < x.Length / inputs; t++)
        {
            ReadOnlySpan<float> xt = x.Slice(t * inputs, inputs);
            Span<float> yt = y.Slice(t * outputs, outputs);
            for (int o = 0; o < outputs; o++)
            {
                yt[o] = TensorPrimitives.Dot(xt, weight.Slice(o * inputs, inputs)) + bias[o];
            }
        }
    }

    /// <summary>
    /// <c>F.layer_norm</c> over each row of <paramref name="weight"/>.Length values: the mean, the biased variance,
    /// then (x - mean) / sqrt(var + eps) * weight + bias, as PyTorch's CPU kernel does (it multiplies by 1 / sqrt).
    /// </summary>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, double epsilon, Span<float> y)
    {
        int c = weight.Length;
        for (int t = 0; t < x.Length / c; t++)
        {
            ReadOnlySpan<float> xt = x.Slice(t * c, c);
            Span<float> yt = y.Slice(t * c, c);
            float mean = TensorPrimitives.Sum(xt) / c;
            TensorPrimitives.Subtract(xt, mean, yt);
            float variance = TensorPrimitives.SumOfSquares(yt) / c;
            float rstd = 1f / MathF.Sqrt(variance + (float)epsilon);
            TensorPrimitives.Multiply(yt, rstd, yt);
            TensorPrimitives.MultiplyAdd(yt, weight, bias, yt);
        }
    }

    /// <summary><c>F.gelu</c> with <c>approximate="none"</c>: 0.5 x (1 + erf(x / sqrt 2)), in place.</summary>
    public static void Gelu(Span<float> x)
    {
        const float InvSqrt2 = 0.70710678118654752f;
        foreach (ref float v in x)
        {
            v = 0.5f * v * (1f + (float)Erf(v * InvSqrt2));
        }
    }

    /// <summary>
    /// The error function, to double precision (.NET has none): 2/sqrt(pi) e^(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)),
    /// a series of positive terms (no cancellation) that converges for every x; |x| ≥ 6 is ±1 to double precision.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }
        double a = Math.Abs(x);
        if (a >= 6)
        {
            return Math.Sign(x);
        }
        double twoX2 = 2 * a * a, term = a, sum = a;
        for (int n = 1; term > 1e-17 * sum; n++)
        {
            term *= twoX2 / (2 * n + 1);
            sum += term;
        }
        double erf = 2 / Math.Sqrt(Math.PI) * Math.Exp(-a * a) * sum;
        return x < 0 ? -erf : erf;
    }

    /// <summary><c>F.softmax</c> of one row, in place: exp(x - max) / sum.</summary>
    public static void Softmax(Span<float> x)
    {
        TensorPrimitives.Subtract(x, TensorPrimitives.Max(x), x);
        TensorPrimitives.Exp(x, x);
        TensorPrimitives.Divide(x, TensorPrimitives.Sum(x), x);
    }
}
