namespace StateDict;

/// <summary>
/// What a load costs that the caller may not expect, in words a log line can carry: the messages of
/// <see cref="Checkpoint.Warnings"/> (and of <see cref="BindingReport.Warnings"/> for generated classes).
/// </summary>
internal static class LoadWarnings
{
    /// <summary>
    /// Storages of this many bytes or more, read with <see cref="TensorMemory.Managed"/>, get a warning: 256 MiB (the
    /// default of <see cref="LoadOptions.ManagedWarningBytes"/>, which tests lower rather than write such a file).
    /// </summary>
    public const long ManagedWarningBytes = 256L << 20;

    /// <summary>The warnings for reading <paramref name="totalBytes"/> of storages as <paramref name="options"/> ask.</summary>
    public static IReadOnlyList<string> For(LoadOptions options, long totalBytes, string path) =>
        options.Memory == TensorMemory.Managed && totalBytes >= options.ManagedWarningBytes
            ? [ManagedOnLargeFile(totalBytes, path)]
            : [];

    private static string ManagedOnLargeFile(long totalBytes, string path) =>
        $"{path}: TensorMemory.Managed reads the {totalBytes / 1e6:N0} MB of storages into fresh GC arrays, which the read " +
        "faults in and the GC counts against its budget: about 10 times slower than TensorMemory.NativeArena on big files " +
        "(measured on a 2 GB checkpoint: 2.3-3.8 s, against 0.22-0.6 s through the arena that TensorMemory.Auto picks). " +
        "Use TensorMemory.Auto or MemoryMapped unless the views must outlive the checkpoint.";
}
