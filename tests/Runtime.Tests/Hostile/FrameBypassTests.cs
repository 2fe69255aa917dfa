using StateDict.Pickle;
using StateDict.Tests.Pickle;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Issue 10's full bypass (a string running past its FRAME end hides <c>posix.system</c> from a reader that reads on,
/// while <c>torch.load</c> runs it) never opens as a normal state dict, in any container; it is refused as unsafe.
/// A frame desync that hides nothing is refused as corrupt.
/// </summary>
public class FrameBypassTests
{
    private static readonly byte[] Storage = TorchZip.Floats(1, 2);

    /// <summary>The rest of a protocol 4 state dict pickle after the hidden call: <c>{'w': tensor([1., 2.])}</c>.</summary>
    private static PickleBuilder StateDictTail() =>
        new PickleBuilder().EmptyDict().BinUnicode("w").Tensor("FloatStorage", "0", 2, 0, [2], [1]).SetItem().Stop();

    [Fact]
    public void The_bypass_in_a_zip_archive_is_unsafe_and_names_posix_system()
    {
        var zip = TorchZip.Build(FrameBypass.Pickle(StateDictTail()), new Dictionary<string, byte[]> { ["0"] = Storage });

        var e = Read.Fails<CheckpointUnsafeException>(zip, "posix.system");

        Assert.Equal(["posix.system"], e.RefusedGlobals);
        Assert.Contains("runs past the end of its FRAME", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bypass_in_a_plain_pickle_is_unsafe()
    {
        var e = Read.Fails<CheckpointUnsafeException>(FrameBypass.Pickle(new PickleBuilder().EmptyDict().Stop()), "posix.system");

        Assert.Equal(["posix.system"], e.RefusedGlobals);
    }

    [Fact]
    public void The_bypass_as_the_main_pickle_of_a_legacy_file_is_unsafe()
    {
        var legacy = LegacyFiles.Build(LegacyFiles.Magic(), FrameBypass.Pickle(StateDictTail()), 1, 2);

        var e = Read.Fails<CheckpointUnsafeException>(legacy, "posix.system");

        Assert.Equal(["posix.system"], e.RefusedGlobals);
    }

    [Fact]
    public void A_frame_desync_that_hides_no_global_is_corrupt()
    {
        var body = new PickleBuilder().LengthHeader(PickleOpcode.BinUnicode, 10).Ascii("ZZZZZ");
        var pickle = new PickleBuilder().Proto(4).Frame((ulong)body.Position).Raw(body.ToArray()).Ascii("aaaaa").Raw(StateDictTail().ToArray()).ToArray();

        Read.Fails<CheckpointCorruptException>(TorchZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = Storage }), "runs past the end of its FRAME at byte 21");
    }
}
