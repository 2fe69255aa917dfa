using System.Buffers.Binary;
using StateDict.Tests.Pickle;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>Issue 10, items 5, 10 and 11: zip records read as PyTorch reads them, encrypted records named, Counter read.</summary>
public class ArchiveParityTests
{
    private static readonly Dictionary<string, byte[]> OneStorage = new() { ["0"] = TorchZip.Floats(1, 2, 3, 4) };

    private static readonly byte[] Payload =
        new PickleBuilder().Proto(2).Global("posix", "system").BinUnicode("echo hi").Tuple1().Reduce().Stop().ToArray();

    [Fact]
    public void Scan_reads_data_pkl_where_the_central_directory_puts_it_and_says_unsafe()
    {
        // miniz (torch.load) reads archive/data.pkl at the offset its central directory entry gives, whatever the local
        // header there is called: point it at another record holding os.system.
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage,
            extraEntries: new Dictionary<string, byte[]> { ["archive/extra"] = Payload });
        int evil = TorchZip.LocalHeaderOf(zip, "archive/extra");
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(TorchZip.CentralHeaderOf(zip, "archive/data.pkl") + 42), (uint)evil);
        using var file = new TempFile(zip);

        var report = CheckpointScanner.Scan(file.Path);
        Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
        Assert.Contains(report.Unsafe, g => g.Name == "posix.system");
        Assert.ThrowsAny<CheckpointException>(() => Checkpoint.Open(file.Path)); // inspect: the names disagree, refused
    }

    [Fact]
    public void An_encrypted_record_is_named_as_encrypted()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage);
        int central = TorchZip.CentralHeaderOf(zip, "archive/data/0");
        int local = TorchZip.LocalHeaderOf(zip, "archive/data/0");
        zip[central + 8] |= 1; // general-purpose flag bit 0: encrypted
        zip[local + 6] |= 1;
        using var file = new TempFile(zip);

        var e = Assert.ThrowsAny<CheckpointException>(() =>
        {
            using var checkpoint = Checkpoint.Open(file.Path);
            checkpoint.ReadBytes("w");
        });
        Assert.Contains("encrypted", e.Message, StringComparison.Ordinal);
        Assert.Contains("archive/data/0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Counter_reads_as_its_counts_like_weights_only_accepts_it()
    {
        // {'w': tensor, 'counts': Counter({'a': 2, 'b': 5})}: Counter pickles as Counter({...}) through REDUCE.
        var pickle = new PickleBuilder().Proto(2).EmptyDict()
            .BinUnicode("w").Tensor("FloatStorage", "0", 4, 0, [4], [1]).SetItem()
            .BinUnicode("counts").Global("collections", "Counter").EmptyDict()
            .BinUnicode("a").BinInt1(2).SetItem().BinUnicode("b").BinInt1(5).SetItem().Tuple1().Reduce().SetItem()
            .Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle, OneStorage));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(2L, checkpoint.Values["counts.a"]);
        Assert.Equal(5L, checkpoint.Values["counts.b"]);
        Assert.Equal(ScanVerdict.Clean, CheckpointScanner.Scan(file.Path).Verdict);
    }

    [Theory]
    [InlineData("object_array_os_system.npz", ScanVerdict.Unsafe, "posix.system")]
    [InlineData("object_array_v2.npz", ScanVerdict.Unsafe, "posix.system")]
    [InlineData("object_array_plain.npz", ScanVerdict.Unsafe, "numpy.core.multiarray._reconstruct")]
    [InlineData("plain.npz", ScanVerdict.Clean, null)]
    public void Scan_reads_the_pickle_of_an_npy_object_array(string name, ScanVerdict verdict, string? global)
    {
        // Written by real numpy (tests/fixtures/numpy/make_numpy_fixtures.py): np.load(allow_pickle=True) unpickles the
        // bytes after an object array's "\x93NUMPY" header, whatever the member is called.
        var report = CheckpointScanner.Scan(Fixtures.PathOf("numpy/" + name));

        Assert.Equal(verdict, report.Verdict);
        if (global is not null)
        {
            Assert.Contains(report.Unsafe, g => g.Name == global);
        }
    }
}
