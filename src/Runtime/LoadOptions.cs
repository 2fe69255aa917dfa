namespace StateDict;

/// <summary>How to open a checkpoint: which part of it to expose, and the resource budgets.</summary>
/// <example>
/// <code>
/// // A training checkpoint {"model": ..., "optimizer": ...}: expose only the model's tensors, as "fc1.weight" etc.
/// using var ckpt = Checkpoint.Open("checkpoint.pth", new LoadOptions { Prefix = "model." });
/// // A DataParallel state_dict: "module.fc1.weight" becomes "fc1.weight".
/// using var dp = Checkpoint.Open("dp.pth", new LoadOptions { StripPrefix = "module." });
/// </code>
/// </example>
public sealed record LoadOptions
{
    /// <summary>
    /// Select a sub-tree: only keys that start with this prefix are kept, and the prefix is removed from them
    /// (<c>"model."</c> turns <c>model.fc1.weight</c> into <c>fc1.weight</c>). Null keeps everything.
    /// </summary>
    public string? Prefix { get; init; }

    /// <summary>
    /// Remove this prefix from keys that have it, keeping the others unchanged (<c>"module."</c> for
    /// <c>nn.DataParallel</c> checkpoints). Applied after <see cref="Prefix"/>.
    /// </summary>
    public string? StripPrefix { get; init; }

    /// <summary>Resource budgets for hostile files. Defaults to <see cref="CheckpointLimits.Default"/>.</summary>
    public CheckpointLimits Limits { get; init; } = CheckpointLimits.Default;
}
