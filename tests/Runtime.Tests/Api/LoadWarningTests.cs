using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>
/// <see cref="TensorMemory.Managed"/> on big storages is about ten times slower than the arena: the load says so in
/// <see cref="Checkpoint.Warnings"/> (and a binding's report) from the documented 256 MiB, never below it and never in
/// other modes. The threshold is lowered through <see cref="LoadOptions.ManagedWarningBytes"/> instead of writing a big file.
/// </summary>
public class LoadWarningTests
{
    private static long StorageBytes(string fixture)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(fixture));
        return checkpoint.Tensors.Values.GroupBy(t => t.StorageKey).Sum(g => g.First().Storage.Root.ByteLength);
    }

    [Fact]
    public void The_documented_threshold_is_256_MiB() =>
        Assert.Equal(256L << 20, new LoadOptions().ManagedWarningBytes);

    [Fact]
    public void Managed_storages_at_the_threshold_get_a_warning_that_says_what_it_costs()
    {
        long bytes = StorageBytes("mlp.pth");
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), new LoadOptions { Memory = TensorMemory.Managed, ManagedWarningBytes = bytes });

        var warning = Assert.Single(checkpoint.Warnings);
        Assert.StartsWith(checkpoint.Path + ": TensorMemory.Managed reads the", warning, StringComparison.Ordinal);
        Assert.Contains("about 10 times slower than TensorMemory.NativeArena", warning, StringComparison.Ordinal);
        Assert.Contains("Use TensorMemory.Auto or MemoryMapped", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Managed_storages_below_the_threshold_get_none()
    {
        long bytes = StorageBytes("mlp.pth");
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), new LoadOptions { Memory = TensorMemory.Managed, ManagedWarningBytes = bytes + 1 });

        Assert.Empty(checkpoint.Warnings);
    }

    [Theory]
    [InlineData(TensorMemory.Auto)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Other_modes_get_none_above_the_threshold(TensorMemory memory)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), new LoadOptions { Memory = memory, ManagedWarningBytes = 1 });

        Assert.Empty(checkpoint.Warnings);
    }

    [Fact]
    public void A_binding_report_carries_the_warning()
    {
        var options = new LoadOptions { Memory = TensorMemory.Managed, ManagedWarningBytes = 1, Strict = false };
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), options);
        var first = checkpoint.Tensors.Values.First();

        var report = SchemaBinder.Bind(checkpoint, [new SchemaEntry(first.Key, first.DType, first.Shape)], options, "Mlp").Report;

        Assert.Equal(checkpoint.Warnings, report.Warnings);
        Assert.Contains("; warning: " + checkpoint.Warnings[0], report.ToString(), StringComparison.Ordinal);
    }
}
