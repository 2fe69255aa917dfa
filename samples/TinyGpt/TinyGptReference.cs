using System.Text.Json;

namespace TinyGpt;

/// <summary>
/// What PyTorch did (model/reference.json, written by train/train.py): its greedy continuation of a prompt, and the
/// float32 logits [V] it chose each token from.
/// </summary>
public sealed record TinyGptReference(string Prompt, string Continuation, int[] ContinuationIds, double MinTop2Margin, float[][] Logits)
{
    /// <summary>Reads reference.json.</summary>
    /// <exception cref="InvalidDataException">A field is missing or of the wrong kind.</exception>
    public static TinyGptReference Load(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = json.RootElement;
        try
        {
            int[] ids = root.GetProperty("continuation_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            float[][] logits = root.GetProperty("logits").EnumerateArray()
                .Select(step => step.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray()).ToArray();
            if (logits.Length != ids.Length)
            {
                throw new InvalidDataException($"{path}: {ids.Length} tokens but {logits.Length} rows of logits");
            }
            return new TinyGptReference(
                root.GetProperty("prompt").GetString()!, root.GetProperty("continuation").GetString()!, ids,
                root.GetProperty("min_top2_margin").GetDouble(), logits);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a reference.json of train/train.py: {e.Message}", e);
        }
    }
}
