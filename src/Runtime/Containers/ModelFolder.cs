namespace StateDict.Containers;

/// <summary>
/// A model folder (a Hugging Face snapshot, a <c>save_pretrained</c> output) opened as one checkpoint: the first of the
/// files such a folder holds, in the order <c>transformers</c> prefers them.
/// </summary>
internal static class ModelFolder
{
    /// <summary>The files looked for, in order.</summary>
    public static readonly string[] Candidates =
        ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"];

    /// <summary><paramref name="path"/> itself when it is not a folder, else the checkpoint file in it.</summary>
    /// <exception cref="CheckpointFormatException">The folder holds none of <see cref="Candidates"/>.</exception>
    public static string Resolve(string path)
    {
        if (!Directory.Exists(path))
        {
            return path;
        }
        foreach (var name in Candidates)
        {
            var candidate = Path.Combine(path, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new CheckpointFormatException(path, $"a folder without a checkpoint: none of {string.Join(", ", Candidates)} is in it");
    }
}
