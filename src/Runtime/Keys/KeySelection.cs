using StateDict.Torch;

namespace StateDict;

/// <summary>Applies <see cref="LoadOptions.Prefix"/> (select a sub-tree) and <see cref="LoadOptions.StripPrefix"/> to keys.</summary>
internal sealed class KeySelection(LoadOptions options, string filePath)
{
    public bool TryMap(string key, out string mapped)
    {
        mapped = key;
        if (!string.IsNullOrEmpty(options.Prefix))
        {
            if (!key.StartsWith(options.Prefix, StringComparison.Ordinal))
            {
                return false;
            }
            mapped = key[options.Prefix.Length..];
        }
        if (!string.IsNullOrEmpty(options.StripPrefix) && mapped.StartsWith(options.StripPrefix, StringComparison.Ordinal))
        {
            mapped = mapped[options.StripPrefix.Length..];
        }
        return true;
    }

    public CheckpointFormatException Collision(string key) =>
        new(filePath, $"two entries map to the key '{key}' after applying the prefix options");

    /// <summary>A prefix that selects nothing is a mistake worth naming, with the prefixes that exist.</summary>
    public void EnsureSomethingSelected(int selected, TorchTree tree)
    {
        if (selected > 0 || string.IsNullOrEmpty(options.Prefix))
        {
            return;
        }
        var tops = tree.Tensors.Select(t => t.Key).Concat(tree.Values.Select(v => v.Key))
            .Select(k => k.Split('.')[0] + ".").Distinct().Take(10);
        throw new KeyNotFoundException($"{filePath}: no key starts with the prefix '{options.Prefix}'; top-level prefixes are: {string.Join(", ", tops)}");
    }
}
