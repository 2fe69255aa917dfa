namespace StateDict;

/// <summary>
/// Resource budgets that make hostile files fail fast instead of exhausting memory or time.
/// The defaults read every real checkpoint; lower them for files from untrusted sources you want to bound tighter.
/// </summary>
/// <example><code>var options = new LoadOptions { Limits = CheckpointLimits.Default with { MaxPickleBytes = 16 &lt;&lt; 20 } };</code></example>
public sealed record CheckpointLimits
{
    /// <summary>The defaults.</summary>
    public static CheckpointLimits Default { get; } = new();

    /// <summary>Largest pickle (e.g. <c>data.pkl</c>) read, in bytes. Default 1 GiB.</summary>
    public long MaxPickleBytes { get; init; } = 1L << 30;

    /// <summary>Most memo entries a pickle may define. Default 4,194,304.</summary>
    public int MaxMemoEntries { get; init; } = 1 << 22;

    /// <summary>Deepest the pickle VM's value stack may grow. Default 1,048,576.</summary>
    public int MaxStackDepth { get; init; } = 1 << 20;

    /// <summary>Most MARKs open at once. Default 10,000.</summary>
    public int MaxMarkDepth { get; init; } = 10_000;

    /// <summary>Deepest nesting of containers in the unpickled object. Default 1,000.</summary>
    public int MaxNesting { get; init; } = 1_000;

    /// <summary>Most tensors plus plain values a checkpoint may list, and most objects visited to find them. Default 4,194,304.</summary>
    public int MaxEntries { get; init; } = 1 << 22;

    /// <summary>Widest integer (LONG1/LONG4/text) in bytes. Default 64; Python ints that large never occur in checkpoints.</summary>
    public int MaxIntegerBytes { get; init; } = 64;

    /// <summary>
    /// How many times more elements than its storage holds a view may address (stride-0 broadcasts, overlapping
    /// strides), since reading materializes them. Views of up to 1,048,576 elements are always allowed. Default 16.
    /// </summary>
    public int MaxExpansion { get; init; } = 16;

    /// <summary>Most dimensions a tensor may have. Default 64.</summary>
    public int MaxRank { get; init; } = 64;
}
