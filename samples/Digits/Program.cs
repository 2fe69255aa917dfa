// Runs a classifier PyTorch trained (digits_mlp.pth) on its test set (digits_test.pth) in C#,
// and checks that we get PyTorch's accuracy and logits. See DigitsMlp.cs for the model.
using Digits;

string directory = args.Length > 0 ? args[0] : AppContext.BaseDirectory;
DigitsResult r = DigitsEvaluation.Run(directory);

Console.WriteLine("A 64-128-10 MLP trained by PyTorch on scikit-learn's digits, run in C#:");
Console.WriteLine($"  test images        {r.Count}");
Console.WriteLine($"  our accuracy       {r.Accuracy:F4} ({r.Correct}/{r.Count})");
Console.WriteLine($"  PyTorch's accuracy {r.RecordedAccuracy:F4}");
Console.WriteLine($"  max |logit diff|   {r.MaxLogitDiff:G3} (tolerance {DigitsResult.Tolerance:G})");

if (r.Matches)
{
    Console.WriteLine("OK: same accuracy as PyTorch, same logits to within the tolerance.");
    return 0;
}
if (r.Accuracy != r.RecordedAccuracy)
{
    Console.WriteLine($"FAIL: our accuracy {r.Accuracy:R} is not PyTorch's {r.RecordedAccuracy:R}.");
}
if (r.MaxLogitDiff > DigitsResult.Tolerance)
{
    Console.WriteLine($"FAIL: a logit differs from PyTorch's by {r.MaxLogitDiff:G3}, more than {DigitsResult.Tolerance:G}.");
}
return 1;
