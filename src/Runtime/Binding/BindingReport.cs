namespace StateDict;

/// <summary>What binding a checkpoint to a generated class found: the prefix used and the keys it left alone.</summary>
public sealed record BindingReport(string Prefix, bool PrefixDetected, IReadOnlyList<string> IgnoredKeys)
{
    /// <summary>The checkpoint's <see cref="Checkpoint.Warnings"/>: what the load costs that the options may not have meant.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <inheritdoc/>
    public override string ToString() =>
        (Prefix.Length == 0 ? "no prefix" : $"prefix '{Prefix}'{(PrefixDetected ? " (detected)" : "")}") +
        (IgnoredKeys.Count == 0 ? "" : $", {IgnoredKeys.Count} keys ignored") +
        string.Concat(Warnings.Select(w => "; warning: " + w));
}

/// <summary>
/// A checkpoint does not match a generated class's schema. The message lists every missing key, unexpected key,
/// dtype mismatch and shape mismatch at once, with "did you mean" suggestions.
/// </summary>
public sealed class CheckpointSchemaMismatchException(string filePath, string problem, IReadOnlyList<string> problems)
    : CheckpointException(filePath, problem)
{
    /// <summary>Each problem on its own, e.g. <c>missing key 'fc1.weight'</c>.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
