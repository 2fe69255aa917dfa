using System.Numerics.Tensors;
using StateDict;

namespace TinyGpt;

/// <summary>
/// The forward pass of train/train.py's <c>TinyGpt</c> in float32: token + position embeddings, pre-LayerNorm blocks
/// of causal multi-head self-attention (as <c>nn.MultiheadAttention</c> computes it) and a GELU MLP, a final
/// LayerNorm, and the lm_head (tied to the token embedding).
/// </summary>
public sealed class TinyGptModel
{
    private readonly TinyGptWeights weights;

    /// <summary>Checks that the weights have the shapes the config says (the binding already checked them against the build's schema).</summary>
    /// <exception cref="InvalidDataException">A weight's shape does not fit the config; the message names its key.</exception>
    public TinyGptModel(TinyGptConfig config, TinyGptWeights weights)
    {
        Config = config;
        this.weights = weights;
        int c = config.NEmbd;
        Expect(weights.TokenEmbedding, config.VocabSize, c);
        Expect(weights.PositionEmbedding, config.BlockSize, c);
        if (weights.Layers.Count != config.NLayer)
        {
            throw new InvalidDataException($"the config has n_layer {config.NLayer} but the weights have {weights.Layers.Count} blocks");
        }
        foreach (TinyGptBlock block in weights.Layers)
        {
            Expect(block.Wq, c, c);
            Expect(block.WFc, 4 * c, c);
        }
        Expect(weights.LmHead, config.VocabSize, c);
    }

    /// <summary>The configuration the model was built with.</summary>
    public TinyGptConfig Config { get; }

    /// <summary>
    /// Greedy decoding: appends the most likely token <paramref name="count"/> times, each time from the last
    /// <c>block_size</c> tokens of the context (as nanoGPT crops it).
    /// </summary>
    /// <returns>The new tokens, and the logits [V] each was chosen from.</returns>
    public (int[] Tokens, float[][] Logits) Generate(IReadOnlyList<int> prompt, int count)
    {
        var context = new List<int>(prompt);
        var tokens = new int[count];
        var logits = new float[count][];
        for (int s = 0; s < count; s++)
        {
            int start = Math.Max(0, context.Count - Config.BlockSize);
            logits[s] = NextTokenLogits(context.GetRange(start, context.Count - start).ToArray());
            tokens[s] = TensorPrimitives.IndexOfMax(logits[s]); // the first of equal maxima, like torch.argmax
            context.Add(tokens[s]);
        }
        return (tokens, logits);
    }

    /// <summary>The logits [V] at the last position of <paramref name="tokens"/> (at most block_size of them).</summary>
    public float[] NextTokenLogits(ReadOnlySpan<int> tokens)
    {
        int t = tokens.Length, c = Config.NEmbd;
        if (t == 0 || t > Config.BlockSize)
        {
            throw new ArgumentException($"the model takes 1 to {Config.BlockSize} tokens; got {t}", nameof(tokens));
        }

        var x = new float[t * c];
        for (int i = 0; i < t; i++)
        {
            if ((uint)tokens[i] >= (uint)Config.VocabSize)
            {
                throw new ArgumentException($"token {tokens[i]} at {i} is not in the vocabulary of {Config.VocabSize}", nameof(tokens));
            }
            TensorPrimitives.Add(Row(weights.TokenEmbedding.Span, tokens[i], c), Row(weights.PositionEmbedding.Span, i, c), x.AsSpan(i * c, c));
        }

        var h = new float[t * c];
        var mlp = new float[t * 4 * c];
        foreach (TinyGptBlock block in weights.Layers)
        {
            Functional.LayerNorm(x, block.Ln1.Weight.Span, block.Ln1.Bias.Span, Config.LayerNormEpsilon, h);
            AddAttention(block, h, x);
            Functional.LayerNorm(x, block.Ln2.Weight.Span, block.Ln2.Bias.Span, Config.LayerNormEpsilon, h);
            Functional.Linear(h, block.WFc.Span, block.BFc.Span, mlp);
            Functional.Gelu(mlp);
            Functional.Linear(mlp, block.WProj.Span, block.BProj.Span, h);
            TensorPrimitives.Add(x, h, x);
        }

        // Every position's logits would come out the same way; the next token needs only the last one's.
        var last = new float[c];
        Functional.LayerNorm(x.AsSpan((t - 1) * c), weights.FinalNorm.Weight.Span, weights.FinalNorm.Bias.Span, Config.LayerNormEpsilon, last);
        var logits = new float[Config.VocabSize];
        Functional.Linear(last, weights.LmHead.Span, new float[Config.VocabSize], logits); // no bias
        return logits;
    }

    /// <summary>
    /// x += out_proj(attention(h)), as <c>nn.MultiheadAttention</c> (PyTorch 1.13) computes it: q, k, v from the fused
    /// in_proj, q divided by sqrt(head size), scores q kᵀ with -inf above the diagonal, softmax, times v, heads
    /// concatenated, then out_proj.
    /// </summary>
    private void AddAttention(TinyGptBlock block, ReadOnlySpan<float> h, Span<float> x)
    {
        int t = h.Length / Config.NEmbd, c = Config.NEmbd, d = Config.HeadSize;
        var q = new float[t * c];
        var k = new float[t * c];
        var v = new float[t * c];
        Functional.Linear(h, block.Wq.Span, block.Bq.Span, q);
        Functional.Linear(h, block.Wk.Span, block.Bk.Span, k);
        Functional.Linear(h, block.Wv.Span, block.Bv.Span, v);
        TensorPrimitives.Divide(q, MathF.Sqrt(d), q);

        var heads = new float[t * c];
        var scores = new float[t];
        for (int head = 0; head < Config.NHead; head++)
        {
            for (int i = 0; i < t; i++)
            {
                Span<float> p = scores.AsSpan(0, i + 1); // positions after i are masked out: exp(-inf) = 0
                for (int j = 0; j <= i; j++)
                {
                    p[j] = TensorPrimitives.Dot(q.AsSpan(i * c + head * d, d), k.AsSpan(j * c + head * d, d));
                }
                Functional.Softmax(p);
                Span<float> output = heads.AsSpan(i * c + head * d, d);
                for (int j = 0; j <= i; j++)
                {
                    TensorPrimitives.MultiplyAdd(v.AsSpan(j * c + head * d, d), p[j], output, output);
                }
            }
        }

        var projected = new float[t * c];
        Functional.Linear(heads, block.Wo.Span, block.Bo.Span, projected);
        TensorPrimitives.Add(x, projected, x);
    }

    private static void Expect(TensorView<float> weight, params long[] shape)
    {
        if (!weight.Shape.AsSpan().SequenceEqual(shape))
        {
            throw new InvalidDataException($"\"{weight.Key}\" is [{string.Join(", ", weight.Shape)}], expected [{string.Join(", ", shape)}] by the config");
        }
    }

    private static ReadOnlySpan<float> Row(ReadOnlySpan<float> matrix, int row, int width) => matrix.Slice(row * width, width);
}
