using System.Text.Json;

namespace TinyGpt;

/// <summary>
/// The model's config.json (written by train/train.py): its sizes, LayerNorm epsilon and vocabulary.
/// Read with <see cref="JsonDocument"/>; fields that are missing or of the wrong kind are reported by name.
/// </summary>
public sealed class TinyGptConfig
{
    /// <summary>Transformer blocks.</summary>
    public required int NLayer { get; init; }

    /// <summary>Attention heads per block.</summary>
    public required int NHead { get; init; }

    /// <summary>Embedding width C.</summary>
    public required int NEmbd { get; init; }

    /// <summary>The longest context (the position embedding's rows).</summary>
    public required int BlockSize { get; init; }

    /// <summary>Token count V.</summary>
    public required int VocabSize { get; init; }

    /// <summary>The LayerNorms' epsilon.</summary>
    public required double LayerNormEpsilon { get; init; }

    /// <summary>The vocabulary: token i is the character <c>Vocab[i]</c>.</summary>
    public required string Vocab { get; init; }

    /// <summary>Reads and checks config.json.</summary>
    /// <exception cref="InvalidDataException">A field is missing, of the wrong kind, or inconsistent.</exception>
    public static TinyGptConfig Load(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = json.RootElement;
        var config = new TinyGptConfig
        {
            NLayer = Int(root, "n_layer", path),
            NHead = Int(root, "n_head", path),
            NEmbd = Int(root, "n_embd", path),
            BlockSize = Int(root, "block_size", path),
            VocabSize = Int(root, "vocab_size", path),
            LayerNormEpsilon = Field(root, "layer_norm_epsilon", JsonValueKind.Number, path).GetDouble(),
            Vocab = Field(root, "vocab", JsonValueKind.String, path).GetString()!,
        };
        if (config.NEmbd % config.NHead != 0 || config.Vocab.Length != config.VocabSize)
        {
            throw new InvalidDataException($"{path}: n_embd {config.NEmbd} must divide into n_head {config.NHead} heads and " +
                                           $"vocab must hold vocab_size {config.VocabSize} characters (it holds {config.Vocab.Length})");
        }
        return config;
    }

    private static int Int(JsonElement root, string name, string path) =>
        Field(root, name, JsonValueKind.Number, path).TryGetInt32(out int value) && value > 0
            ? value
            : throw new InvalidDataException($"{path}: \"{name}\" must be a positive integer");

    private static JsonElement Field(JsonElement root, string name, JsonValueKind kind, string path) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out JsonElement value) && value.ValueKind == kind
            ? value
            : throw new InvalidDataException($"{path}: \"{name}\" is missing or not a {kind.ToString().ToLowerInvariant()}");
}
