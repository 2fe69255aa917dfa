using System.Numerics.Tensors;

namespace TinyGpt;

/// <summary>Our greedy continuation of PyTorch's prompt, next to PyTorch's.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Ours">Our continuation.</param>
/// <param name="PyTorchs">PyTorch's continuation (reference.json).</param>
/// <param name="OurTokens">Our new token ids.</param>
/// <param name="PyTorchTokens">PyTorch's new token ids.</param>
/// <param name="MaxLogitDiff">The largest |our logit - PyTorch's| over the steps where the contexts were still the same.</param>
/// <param name="MinTop2Margin">PyTorch's smallest gap between the best and second-best logit over the steps.</param>
public sealed record TinyGptResult(string Prompt, string Ours, string PyTorchs, int[] OurTokens, int[] PyTorchTokens, float MaxLogitDiff, double MinTop2Margin)
{
    /// <summary>How far our logits may be from PyTorch's.</summary>
    public const float Tolerance = 1e-4f;

    /// <summary>True when every token is PyTorch's and every logit is within <see cref="Tolerance"/>.</summary>
    public bool Matches => OurTokens.AsSpan().SequenceEqual(PyTorchTokens) && MaxLogitDiff <= Tolerance;
}

/// <summary>Runs the model folder in C# on PyTorch's prompt and compares.</summary>
public static class TinyGptComparison
{
    /// <summary>Loads <c>config.json</c>, the weights and <c>reference.json</c> from <paramref name="folder"/> and decodes greedily.</summary>
    public static TinyGptResult Run(string folder)
    {
        string configPath = Path.Combine(folder, "config.json");
        var config = TinyGptConfig.Load(configPath);
        config.Validate(configPath);
        using var weights = TinyGptWeights.Load(folder); // the folder's sharded bf16 safetensors, as float32
        var model = new TinyGptModel(config, weights);
        var reference = TinyGptReference.Load(Path.Combine(folder, "reference.json"));
        var tokenizer = new CharTokenizer(config.Vocab);

        var (tokens, logits) = model.Generate(tokenizer.Encode(reference.Prompt), reference.ContinuationIds.Length);

        float maxDiff = 0;
        var diff = new float[config.VocabSize];
        for (int s = 0; s < tokens.Length; s++)
        {
            TensorPrimitives.Subtract(logits[s], reference.Logits[s], diff);
            maxDiff = Math.Max(maxDiff, MathF.Abs(TensorPrimitives.MaxMagnitude(diff)));
            if (tokens[s] != reference.ContinuationIds[s])
            {
                break; // the contexts differ from here on
            }
        }
        return new TinyGptResult(reference.Prompt, tokenizer.Decode(tokens), reference.Continuation, tokens,
                                 reference.ContinuationIds, maxDiff, reference.MinTop2Margin);
    }
}
