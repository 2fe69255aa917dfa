using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>A sharded pytorch_model.bin index whose shards (written by torch 1.13) hold sparse and quantized tensors.</summary>
public class ShardedKindTests
{
    private const string Index = "kinds/sharded/pytorch_model.bin.index.json";

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Sparse_and_quantized_tensors_of_shards_read_like_torch(TensorMemory memory)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(Index), new LoadOptions { Memory = memory });
        Assert.Equal(CheckpointFormat.Sharded, checkpoint.Format);
        CheckpointAssert.TensorsMatch(Fixtures.ExpectedFor(Index), checkpoint);
        TensorKindFixtureTests.SparseMatch(Index, checkpoint);
        TensorKindFixtureTests.QuantizedMatch(Index, checkpoint);
        Assert.Equal("emb.weight", checkpoint.Tensors["emb.weight.values"].Owner);
        Assert.Equal(QuantizedDType.QInt8, checkpoint.Tensors["fc.weight"].QuantizedDType);
    }

    [Fact]
    public void A_sharded_checkpoint_with_kinds_saves_as_one_pth_that_reads_back()
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-{Guid.NewGuid():N}.pth");
        try
        {
            using (var source = Checkpoint.Open(Fixtures.PathOf(Index)))
            {
                source.Save(path);
            }
            using var checkpoint = Checkpoint.Open(path);
            CheckpointAssert.TensorsMatch(Fixtures.ExpectedFor(Index), checkpoint);
            TensorKindFixtureTests.SparseMatch(Index, checkpoint);
            TensorKindFixtureTests.QuantizedMatch(Index, checkpoint);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
