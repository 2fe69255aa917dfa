using System.Numerics.Tensors;

namespace Digits;

/// <summary>What running the model in C# gave, next to what PyTorch recorded.</summary>
/// <param name="Correct">Test images classified correctly.</param>
/// <param name="Count">Test images.</param>
/// <param name="Accuracy">Our accuracy, computed in float32 like PyTorch's <c>(pred == labels).float().mean()</c>.</param>
/// <param name="RecordedAccuracy">The accuracy PyTorch recorded in digits_test.pth.</param>
/// <param name="MaxLogitDiff">The largest |our logit - PyTorch's logit| over all images and classes.</param>
public sealed record DigitsResult(int Correct, int Count, double Accuracy, double RecordedAccuracy, float MaxLogitDiff)
{
    /// <summary>How far our logits may be from PyTorch's.</summary>
    public const float Tolerance = 1e-5f;

    /// <summary>True when the accuracy is exactly PyTorch's and every logit is within <see cref="Tolerance"/>.</summary>
    public bool Matches => Accuracy == RecordedAccuracy && MaxLogitDiff <= Tolerance;
}

/// <summary>Runs digits_mlp.pth on digits_test.pth and compares with PyTorch.</summary>
public static class DigitsEvaluation
{
    /// <summary>Loads both files from <paramref name="directory"/> and classifies every test image.</summary>
    public static DigitsResult Run(string directory)
    {
        using var model = DigitsMlp.Load(Path.Combine(directory, "digits_mlp.pth")); // checked against the schema
        var test = TestSet.Load(Path.Combine(directory, "digits_test.pth"));

        float[] logits = model.Forward(test.Images.Span);
        int classes = logits.Length / test.Count;
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            if (TensorPrimitives.IndexOfMax(logits.AsSpan(i * classes, classes)) == test.Labels.Span[i])
            {
                correct++;
            }
        }

        var diff = new float[logits.Length];
        TensorPrimitives.Subtract(logits, test.Logits.Span, diff);
        float maxDiff = MathF.Abs(TensorPrimitives.MaxMagnitude(diff));
        float accuracy = (float)correct / test.Count;
        return new DigitsResult(correct, test.Count, accuracy, test.Accuracy, maxDiff);
    }
}
