using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>A corrupt storage read inside the parallel preload surfaces as the CheckpointException, never an AggregateException.</summary>
public class ParallelReadErrorTests
{
    private static string InputPath(string name) => Path.Combine(AppContext.BaseDirectory, "Hostile", "Regressions", "inputs", name);

    [Fact]
    public void A_broken_deflated_storage_fails_Preload_with_the_corrupt_error()
    {
        using var checkpoint = Checkpoint.Open(InputPath("broken-deflate-block-in-storage.pth"), new LoadOptions { Memory = TensorMemory.Managed });

        var e = Assert.Throws<CheckpointCorruptException>(() => checkpoint.Preload());
        Assert.Contains("archive/data/0 cannot be inflated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_deflated_storage_fails_OpenAsync_with_the_corrupt_error()
    {
        var e = await Assert.ThrowsAsync<CheckpointCorruptException>(() => Checkpoint.OpenAsync(InputPath("broken-deflate-block-in-storage.pth")));
        Assert.Contains("cannot be inflated", e.Message, StringComparison.Ordinal);
    }
}
