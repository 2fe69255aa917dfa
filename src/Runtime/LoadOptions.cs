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

    /// <summary>
    /// For generated classes: when true (the default, like <c>load_state_dict(strict=True)</c>), keys the schema does not
    /// list are an error; when false they are ignored and listed in <see cref="BindingReport.IgnoredKeys"/>.
    /// Missing keys and dtype or shape mismatches are always errors.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// For generated classes: when no <see cref="Prefix"/> is given, detect the common wrappers (<c>module.</c>,
    /// <c>_orig_mod.</c>, <c>model.</c>, <c>state_dict.</c>, <c>model_state_dict.</c>) and report the one used in
    /// <see cref="BindingReport.Prefix"/>. Default true.
    /// </summary>
    public bool DetectPrefix { get; init; } = true;

    /// <summary>Where tensor bytes are kept: managed arrays, a huge-page native arena, or the memory-mapped file. Default <see cref="TensorMemory.Auto"/>.</summary>
    public TensorMemory Memory { get; init; } = TensorMemory.Auto;

    /// <summary>Resource budgets for hostile files. Defaults to <see cref="CheckpointLimits.Default"/>.</summary>
    public CheckpointLimits Limits { get; init; } = CheckpointLimits.Default;

    /// <summary>
    /// Read whole pickled models (<c>torch.save(model)</c>, <c>pickle.dump(model)</c>), which are refused by default
    /// because they name the model's classes (<c>__main__.MLP</c>, <c>torch.nn.modules.linear.Linear</c>). When true,
    /// the module tree is walked as data and its state dict listed under the keys <c>model.state_dict()</c> gives
    /// (<c>fc1.weight</c>: each module's <c>_parameters</c>, persistent <c>_buffers</c>, then <c>_modules</c>); other
    /// objects of unknown classes are read like dicts of their attributes. Nothing is run or imported: classes are
    /// treated as plain names, and globals that would run code or touch files or the network (<c>posix.system</c>,
    /// <c>builtins.eval</c>, <c>copyreg._reconstructor</c>, <c>builtins.open</c>, ...) still refuse the file; only
    /// globals <see cref="CheckpointScanner"/> rates <see cref="GlobalRisk.UnknownClass"/> are accepted. Default false.
    /// </summary>
    /// <example><code>using var ckpt = Checkpoint.Open("model_full.pth", new LoadOptions { AllowModulePickles = true });  // fc1.weight, ...</code></example>
    public bool AllowModulePickles { get; init; }

    /// <summary>
    /// From how many bytes of storages <see cref="TensorMemory.Managed"/> is worth a <see cref="Checkpoint.Warnings"/>
    /// entry: 256 MiB. Internal: tests lower it rather than write such a file.
    /// </summary>
    internal long ManagedWarningBytes { get; init; } = LoadWarnings.ManagedWarningBytes;
}
