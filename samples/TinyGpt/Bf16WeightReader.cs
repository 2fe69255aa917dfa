using StateDict;

namespace TinyGpt;

/// <summary>
/// Stand-in, until <c>Checkpoint.ReadAs&lt;float&gt;</c> and the typed binding land: reads a bf16 weight as float32
/// (exact: a bf16 is the top half of a float32) after checking its shape, so a folder of another model fails with
/// the key's name instead of a wrong answer.
/// </summary>
internal sealed class Bf16WeightReader(string path) : IDisposable
{
    private readonly Checkpoint _checkpoint = Checkpoint.Open(path);

    public bool Has(string key) => _checkpoint.Tensors.ContainsKey(key);

    public float[] Read(string key, params int[] shape)
    {
        if (!_checkpoint.Tensors.TryGetValue(key, out TensorInfo? info))
        {
            throw new InvalidDataException($"{_checkpoint.Path}: no tensor \"{key}\"");
        }
        if (!info.Shape.SequenceEqual(shape.Select(d => (long)d)))
        {
            throw new InvalidDataException($"{_checkpoint.Path}: \"{key}\" is [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}]");
        }
        ReadOnlySpan<BFloat16> bf16 = _checkpoint.Read<BFloat16>(info).Span;
        var f32 = new float[bf16.Length];
        for (int i = 0; i < f32.Length; i++)
        {
            f32[i] = (float)bf16[i];
        }
        return f32;
    }

    public void Dispose() => _checkpoint.Dispose();
}
