namespace TinyGpt;

/// <summary>The char-level vocabulary of config.json: token i is the character <c>vocab[i]</c>.</summary>
public sealed class CharTokenizer(string vocab)
{
    /// <summary>The token ids of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary.</exception>
    public int[] Encode(string text) => text.Select((ch, i) => vocab.IndexOf(ch, StringComparison.Ordinal) switch
    {
        < 0 => throw new ArgumentException($"'{ch}' at {i} is not in the model's vocabulary", nameof(text)),
        int id => id,
    }).ToArray();

    /// <summary>The text of <paramref name="tokens"/>.</summary>
    public string Decode(IEnumerable<int> tokens) => string.Concat(tokens.Select(id => vocab[id]));
}
