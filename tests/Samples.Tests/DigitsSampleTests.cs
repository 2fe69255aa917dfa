using Digits;

namespace StateDict.Samples.Tests;

public class DigitsSampleTests
{
    [Fact]
    public void Matches_PyTorch_accuracy_exactly_and_logits_within_tolerance()
    {
        DigitsResult result = DigitsEvaluation.Run(AppContext.BaseDirectory);

        Assert.Equal(397, result.Count);
        Assert.Equal(0.9697732925415039, result.RecordedAccuracy); // tests/fixtures/digits_test.pth.expected.json
        Assert.Equal(result.RecordedAccuracy, result.Accuracy);
        Assert.InRange(result.MaxLogitDiff, 0f, 1e-5f);
        Assert.True(result.Matches);
    }

    [Fact]
    public void Model_is_bound_through_the_generated_schema()
    {
        using var model = DigitsMlp.Load(Path.Combine(AppContext.BaseDirectory, "digits_mlp.pth"));

        Assert.Equal([128L, 64L], model.Hidden.Weight.Shape.ToArray());
        Assert.Equal([10L], model.Out.Bias.Shape.ToArray());
        Assert.Equal(["hidden.weight", "hidden.bias", "out.weight", "out.bias"], DigitsMlp.Schema.Select(e => e.Key));
    }
}
