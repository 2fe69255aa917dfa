using StateDict.Tests.Pickle;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>The scanner reports what Python would already have run, even when the pickle breaks afterwards.</summary>
public class ScannerHostileTests
{
    [Fact]
    public void A_dangerous_call_followed_by_garbage_is_unsafe_not_merely_unreadable()
    {
        // os.system("echo") is called at REDUCE; the unknown opcode after it only fails once the damage is done.
        var pickle = new PickleBuilder().Proto(2).Global("posix", "system").BinUnicode("echo").Tuple1().Reduce().Raw(0xFF).ToArray();
        using var file = new TempFile(pickle, ".pkl");

        var report = CheckpointScanner.Scan(file.Path);

        Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
        Assert.Contains(report.Unsafe, g => g.Name == "posix.system" && g.Risk == GlobalRisk.CodeExecution);
        Assert.NotNull(report.Error);
    }

    [Theory]
    [InlineData("sharded/model.safetensors.index.json", 0)]
    [InlineData("sharded/pytorch_model.bin.index.json", 2)]
    public void A_sharded_index_is_scanned_shard_by_shard(string index, int pickles)
    {
        var report = CheckpointScanner.Scan(Support.Fixtures.PathOf(index));

        Assert.Equal(ScanVerdict.Clean, report.Verdict);
        Assert.Equal("sharded", report.Format);
        Assert.Equal(pickles, report.Pickles.Count);
    }

    [Fact]
    public void A_clean_pickle_that_breaks_is_unreadable()
    {
        var pickle = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").Raw(0xFF).ToArray();
        using var file = new TempFile(pickle, ".pkl");

        Assert.Equal(ScanVerdict.Unreadable, CheckpointScanner.Scan(file.Path).Verdict);
    }
}
