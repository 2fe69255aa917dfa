using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using StateDict.Tests.Hostile;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>Managed arrays, the huge-page arena and the memory-mapped file hold the same bytes; native views die with their checkpoint.</summary>
public class MemoryModeTests
{
    [Theory]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Native_views_throw_after_the_checkpoint_is_disposed(TensorMemory memory)
    {
        var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), new LoadOptions { Memory = memory });
        var view = checkpoint.Read<float>("fc1.weight");
        float first = view.Span[0];
        checkpoint.Dispose();

        Assert.Throws<ObjectDisposedException>(() => view.Span[0]);
        Assert.Throws<ObjectDisposedException>(() => view.ToArray());
        Assert.NotEqual(float.NaN, first);
    }

    [Theory]
    [InlineData(4095, false)]
    [InlineData(4096, true)]
    public void Auto_reads_many_small_storages_into_the_arena(int tensors, bool arena)
    {
        // 4 bytes each: far below Auto's 16 MiB, so only their number decides (the arena's views die with the checkpoint).
        using var temp = new TempFile([]);
        var writer = new StateDictWriter();
        for (int i = 0; i < tensors; i++)
        {
            writer.Add<float>($"t{i}", [1], [i]);
        }
        writer.Save(temp.Path);
        var checkpoint = Checkpoint.Open(temp.Path);
        var view = checkpoint.Read<float>("t7");
        checkpoint.Dispose();

        if (arena)
        {
            Assert.Throws<ObjectDisposedException>(() => view.ToArray());
        }
        else
        {
            Assert.Equal([7f], view.ToArray());
        }
    }

    [Fact]
    public void Managed_views_outlive_the_checkpoint()
    {
        var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"), new LoadOptions { Memory = TensorMemory.Managed });
        var view = checkpoint.Read<float>("fc1.weight");
        checkpoint.Dispose();

        Assert.Equal(512, view.ToArray().Length);
    }

    [Fact]
    public void Memory_mapped_views_point_into_the_file_at_the_records_aligned_offset()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("views.pth"), new LoadOptions { Memory = TensorMemory.MemoryMapped });
        var view = checkpoint.Read<float>("base");

        Assert.False(MemoryMarshal.TryGetArray(view.Memory, out _));
        unsafe
        {
            using var pin = view.Memory.Pin();
            Assert.Equal(0, (long)pin.Pointer % 64);
        }
    }

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Tied_tensors_share_one_buffer_in_every_mode(TensorMemory memory)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("views.pth"), new LoadOptions { Memory = memory });
        var baseView = checkpoint.Read<float>("base");
        var tied = checkpoint.Read<float>("tied");

        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(baseView.Span), ref MemoryMarshal.GetReference(tied.Span)));
    }

    [Fact]
    public void Bool_tensors_are_validated_copies_even_when_memory_mapped()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("dtypes.pth"), new LoadOptions { Memory = TensorMemory.MemoryMapped });

        Assert.Equal(6, checkpoint.Read<bool>("bool").Length);
    }

    [Fact]
    public async Task OpenAsync_preloads_every_storage_and_reports_progress()
    {
        var reports = new List<LoadProgress>();
        var progress = new SynchronousProgress(reports);
        using var checkpoint = await Checkpoint.OpenAsync(Fixtures.PathOf("mobilenet_v3_small.pth"), progress: progress);

        var last = reports.MaxBy(r => r.BytesDone);
        Assert.Equal(last.BytesTotal, last.BytesDone);
        Assert.Equal(last.StoragesTotal, reports.Count);
        Assert.Equal(1.0, last.Fraction);
    }

    [Fact]
    public async Task OpenAsync_honours_cancellation()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Checkpoint.OpenAsync(Fixtures.PathOf("mlp.pth"), cancellationToken: cancelled.Token));
    }

    [Fact]
    public void CopyTo_reads_a_contiguous_tensor_in_parts()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"));
        var whole = checkpoint.Read<float>("fc1.weight").ToArray();
        var part = new float[100];

        checkpoint.CopyTo<float>("fc1.weight", 300, part);

        Assert.Equal(whole.AsSpan(300, 100).ToArray(), part);
    }

    private sealed class SynchronousProgress(List<LoadProgress> reports) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
