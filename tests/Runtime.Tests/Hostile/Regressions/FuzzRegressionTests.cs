using Xunit;

namespace StateDict.Tests.Hostile.Regressions;

/// <summary>
/// Inputs the AFL++ harness (fuzz/) found, each kept under <c>inputs/</c> with the typed error it must now give.
/// Every input is read in every <see cref="TensorMemory"/> mode, as the harness does: open, read every tensor, and
/// fail only with a <see cref="CheckpointException"/> from a deliberate check (not the catch-all in
/// <see cref="Checkpoint.Open"/>, whose "unreadable checkpoint:" hides an unchecked case).
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<TensorMemory> Modes() => [.. Enum.GetValues<TensorMemory>()];

    // A deflated data.pkl whose stream holds a stored block with LEN != ~NLEN: SharpZipLib's inflater throws its base
    // SharpZipBaseException (not ZipException), which only Checkpoint.Open's catch-all turned into a checkpoint error.
    [Theory]
    [MemberData(nameof(Modes))]
    public void A_broken_deflate_block_in_data_pkl_is_corrupt(TensorMemory mode) =>
        Fails<CheckpointCorruptException>("broken-deflate-block-in-data-pkl.pth", mode, "record arcnive/data.pkl cannot be inflated: broken uncompressed block");

    // The same damage in a deflated storage record escaped ReadBytes as a raw SharpZipBaseException: storages are read
    // after Open, outside its catch-all.
    [Theory]
    [MemberData(nameof(Modes))]
    public void A_broken_deflate_block_in_a_storage_is_corrupt_when_read(TensorMemory mode) =>
        Fails<CheckpointCorruptException>("broken-deflate-block-in-storage.pth", mode, "record archive/data/0 cannot be inflated: broken uncompressed block");

    // SharpZipLib's inflater indexes past its bit-reverse table for some invalid dynamic-Huffman code lengths and throws
    // IndexOutOfRangeException: in data.pkl only the catch-all caught it, ...
    [Theory]
    [MemberData(nameof(Modes))]
    public void Invalid_huffman_code_lengths_in_data_pkl_are_corrupt(TensorMemory mode) =>
        Fails<CheckpointCorruptException>("bad-huffman-code-lengths-in-data-pkl.pth", mode, "record archive/data.pkl cannot be inflated:");

    // ... and in a storage it escaped ReadBytes untyped.
    [Theory]
    [MemberData(nameof(Modes))]
    public void Invalid_huffman_code_lengths_in_a_storage_are_corrupt_when_read(TensorMemory mode) =>
        Fails<CheckpointCorruptException>("bad-huffman-code-lengths-in-storage.pth", mode, "record archive/data/0 cannot be inflated:");

    // checkpoint.pth with one byte of its zip64 end record changed: "entries on this disk" says 1,677,721,610 while
    // "total entries" still says 10. ZipDirectory checked only the total, but SharpZipLib sizes its entry array from
    // the per-disk count: an 8 kB file allocated 13 GB (an OutOfMemoryException under a heap limit) before failing.
    [Theory]
    [MemberData(nameof(Modes))]
    public void A_zip64_per_disk_entry_count_beyond_the_directory_is_corrupt_without_allocating_it(TensorMemory mode)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();

        Fails<CheckpointCorruptException>("zip64-entries-on-this-disk-bomb.pth", mode, "zip directory claims 1677721610 entries but its 633 bytes can hold at most 13");

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16L << 20);
    }

    private static string InputPath(string name) => Path.Combine(AppContext.BaseDirectory, "Hostile", "Regressions", "inputs", name);

    /// <summary>Opens a copy of the input and reads every tensor, asserting it fails with exactly <typeparamref name="T"/> naming the file and <paramref name="problem"/>.</summary>
    private static T Fails<T>(string input, TensorMemory mode, string problem) where T : CheckpointException
    {
        using var file = new TempFile(File.ReadAllBytes(InputPath(input)));
        var e = Assert.Throws<T>(() => Read.All(file.Path, new LoadOptions { Memory = mode }));
        Assert.Equal(file.Path, e.FilePath);
        Assert.StartsWith(file.Path + ": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("unreadable checkpoint:", e.Problem, StringComparison.Ordinal);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        return e;
    }
}
