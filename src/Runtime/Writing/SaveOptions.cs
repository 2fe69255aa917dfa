namespace StateDict;

/// <summary>The file format a checkpoint is saved in.</summary>
public enum SaveFormat
{
    /// <summary>From the file name: <c>.safetensors</c> is <see cref="Safetensors"/>, anything else <see cref="Pth"/>.</summary>
    Auto,

    /// <summary><c>torch.save</c>'s zip format (<c>.pth</c>, <c>.pt</c>, <c>.bin</c>), loadable by <c>torch.load(weights_only=True)</c>.</summary>
    Pth,

    /// <summary>Hugging Face safetensors: tensors only, contiguous; plain values are not written.</summary>
    Safetensors,
}

/// <summary>How dotted keys are laid out in a saved <c>.pth</c>.</summary>
public enum KeyLayout
{
    /// <summary>One flat <c>OrderedDict</c> of dotted keys, like <c>model.state_dict()</c>. The default.</summary>
    Flat,

    /// <summary>
    /// Dotted keys folded back into nested dicts (<c>model.fc1.weight</c> → <c>{'model': {'fc1': {'weight': …}}}</c>),
    /// like a training checkpoint <c>{'model': …, 'optimizer': …, 'epoch': …}</c>. Every level is a dict with string
    /// keys: list indices and int keys come back as strings ("0").
    /// </summary>
    Nested,
}

/// <summary>How to save a checkpoint.</summary>
/// <example>
/// <code>
/// ckpt.Save("model.safetensors");                                  // format from the extension
/// ckpt.Save("model.pth", new SaveOptions { Keys = KeyLayout.Nested });
/// </code>
/// </example>
public sealed record SaveOptions
{
    /// <summary>The format; <see cref="SaveFormat.Auto"/> (the default) decides by the file extension.</summary>
    public SaveFormat Format { get; init; } = SaveFormat.Auto;

    /// <summary>For <c>.pth</c>: a flat state_dict (the default) or nested dicts.</summary>
    public KeyLayout Keys { get; init; } = KeyLayout.Flat;

    /// <summary>For safetensors: entries added to the header's <c>__metadata__</c> (it always has <c>"format": "pt"</c>).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Reports the tensor bytes written so far.</summary>
    public IProgress<LoadProgress>? Progress { get; init; }

    internal static SaveFormat Resolve(SaveFormat format, string path) =>
        format != SaveFormat.Auto ? format
        : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? SaveFormat.Safetensors
        : SaveFormat.Pth;
}
