using StateDict.Pickle;
using Xunit;
using static StateDict.Tests.Pickle.PickleAssert;

namespace StateDict.Tests.Pickle;

/// <summary>
/// Protocol 4/5 FRAMEs, read so that every CPython file object agrees with us or the pickle is refused. CPython's C
/// unpickler serves reads from a buffered frame; a read that does not fit in the frame's rest is served by the file
/// object: <c>io.BytesIO</c> (how <c>torch.load</c> reads a zip's data.pkl) drops the rest and reads after the frame,
/// a buffered file (<c>open(path, 'rb')</c>, how it reads legacy files) reads on from where the frame's bytes were.
/// Each case below was run through CPython 3.11's <c>pickle.Unpickler</c> on both (outputs in the comments).
/// </summary>
public class FrameTests
{
    private static PickleBuilder Framed(PickleBuilder start, PickleBuilder body) =>
        start.Frame((ulong)body.Position).Raw(body.ToArray());

    [Fact]
    public void Consecutive_frames_each_ending_at_an_opcode_read_as_one_pickle()
    {
        var pickle = Framed(Framed(new PickleBuilder().Proto(4), new PickleBuilder().EmptyList().BinInt1(1).Append()), new PickleBuilder().BinInt1(2).Append().Stop());

        var list = Assert.IsType<PyList>(Root(pickle));

        Assert.Equal([1L, 2L], list.Items);
    }

    [Fact]
    public void An_opcode_that_ends_its_frame_takes_its_argument_from_after_the_frame()
    {
        // CPython (BytesIO and file): 5. Nothing of the frame is left when the argument is read.
        var pickle = Framed(new PickleBuilder().Proto(4), new PickleBuilder().Op(PickleOpcode.BinInt)).Raw(5, 0, 0, 0).Stop();

        Assert.Equal(5L, Root(pickle));
    }

    [Fact]
    public void A_string_running_past_its_frame_end_is_corrupt()
    {
        var pickle = Framed(new PickleBuilder().Proto(4), new PickleBuilder().LengthHeader(PickleOpcode.BinUnicode, 10).Ascii("ZZZZZ")).Ascii("aaaaa").Stop();

        Corrupt(pickle, 16, "BINUNICODE of 10 bytes runs past the end of its FRAME at byte 21");
    }

    [Fact]
    public void A_bytes_payload_running_past_its_frame_end_is_corrupt()
    {
        // CPython 3.8+ reads it on (readinto), 3.7 drops the frame's rest: the two disagree, so it is refused.
        var pickle = Framed(new PickleBuilder().Proto(4), new PickleBuilder().LengthHeader(PickleOpcode.BinBytes, 10).Ascii("ZZZZZ")).Ascii("aaaaa").Stop();

        Corrupt(pickle, 16, "BINBYTES of 10 bytes runs past the end of its FRAME at byte 21");
    }

    [Fact]
    public void An_integer_argument_split_by_a_frame_end_is_corrupt()
    {
        var pickle = Framed(new PickleBuilder().Proto(4), new PickleBuilder().Op(PickleOpcode.BinInt).Raw(1, 2)).Raw(0, 0).Stop();

        Corrupt(pickle, 12, "a 4-byte argument of 4 bytes runs past the end of its FRAME at byte 14");
    }

    [Fact]
    public void A_text_line_running_past_its_frame_end_is_corrupt_and_both_CPython_readings_are_reported()
    {
        // b'\x80\x04\x95\n\0\0\0\0\0\0\0cposix\nsystem\n).': CPython on io.BytesIO imports posix.tem (it drops "sys"),
        // on a buffered file posix.system. Either way Python imports something; we refuse, naming both.
        var pickle = Framed(new PickleBuilder().Proto(4), new PickleBuilder().Ascii("cposix\nsys")).Ascii("tem\n").EmptyTuple().Stop();
        var seen = new List<PyGlobal>();

        var e = Assert.Throws<CheckpointCorruptException>(() => PickleMachine.Run(pickle.ToArray(), Source, CheckpointLimits.Default, seen));

        Assert.Contains("GLOBAL name runs past the end of its FRAME at byte 21", e.Message, StringComparison.Ordinal);
        Assert.Equal(["posix.system", "posix.tem"], seen.Select(g => g.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_FRAME_inside_a_frame_is_corrupt_even_when_it_fits()
    {
        // CPython reads this one as {} either way, but only because the inner frame fits in the outer one's buffer.
        var inner = Framed(new PickleBuilder(), new PickleBuilder().EmptyDict());
        var pickle = Framed(new PickleBuilder().Proto(4), inner.Stop());

        Corrupt(pickle, 11, "FRAME inside the frame that ends at byte 22");
    }

    [Fact]
    public void A_FRAME_inside_a_frame_that_does_not_fit_reports_what_each_CPython_reading_imports()
    {
        // b'\x80\x04\x95\x18...\x95\x12...cposix\nsystem\n0cbuiltins\neval\n0N.': on io.BytesIO CPython drops the outer
        // frame's rest (the posix.system GLOBAL) and reads the inner frame from after it: builtins.eval only. A
        // buffered file reads on: posix.system, then builtins.eval.
        var inner = new PickleBuilder().Global("posix", "system").Pop();
        var after = new PickleBuilder().Global("builtins", "eval").Pop().None().Stop();
        var pickle = new PickleBuilder().Proto(4).Frame((ulong)(9 + inner.Position)).Frame((ulong)after.Position).Raw(inner.ToArray()).Raw(after.ToArray());
        var seen = new List<PyGlobal>();

        var e = Assert.Throws<CheckpointCorruptException>(() => PickleMachine.Run(pickle.ToArray(), Source, CheckpointLimits.Default, seen));

        Assert.Contains("byte 11: FRAME inside the frame that ends at byte 35", e.Message, StringComparison.Ordinal);
        Assert.Equal(["builtins.eval", "posix.system"], seen.Select(g => g.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_STOP_with_frame_bytes_after_it_is_corrupt()
    {
        // b'\x80\x04\x95\x06...K\x07.K\x08.K\t.': the next pickle.load on the same file starts at K\x08 on a buffered
        // file but at K\t on io.BytesIO (legacy files are five pickles read this way).
        var pickle = Framed(new PickleBuilder().Proto(4), new PickleBuilder().BinInt1(7).Stop().BinInt1(8).Stop()).BinInt1(9).Stop();

        Corrupt(pickle, 13, "STOP inside a FRAME that goes on to byte 17");
    }

    [Fact]
    public void A_frame_longer_than_the_data_is_corrupt_before_anything_in_it_runs()
    {
        // CPython: "pickle data was truncated" at the FRAME, before the GLOBAL inside runs.
        var pickle = new PickleBuilder().Proto(4).Frame(100).Global("posix", "system").Stop();
        var seen = new List<PyGlobal>();

        Assert.Throws<CheckpointCorruptException>(() => PickleMachine.Run(pickle.ToArray(), Source, CheckpointLimits.Default, seen));

        Assert.Empty(seen);
    }

    [Fact]
    public void The_bypass_hidden_behind_a_string_that_runs_past_its_frame_is_reported_as_imported()
    {
        // CPython 3.11, io.BytesIO: find_class('posix', 'system') then {}; buffered file: {} and no import.
        var seen = new List<PyGlobal>();

        Assert.Throws<CheckpointCorruptException>(() => PickleMachine.Run(FrameBypass.Pickle(new PickleBuilder().EmptyDict().Stop()), Source, CheckpointLimits.Default, seen));

        Assert.Equal(["posix.system"], seen.Select(g => g.FullName));
    }
}

/// <summary>
/// The bypass of issue 10: a BINUNICODE whose length runs 5 bytes past its FRAME. We (reading on) see a string and
/// then another string hiding <c>posix.system('echo hi')</c>; CPython on <c>io.BytesIO</c> drops the frame's last
/// 5 bytes, takes the next 10 as the string, and runs the call. Both then read <paramref name="tail"/>.
/// </summary>
internal static class FrameBypass
{
    public static byte[] Pickle(PickleBuilder tail)
    {
        var hidden = new PickleBuilder().Global("posix", "system").Mark().Unicode("echo hi").Tuple().Reduce().Pop().ToArray();
        var body = new PickleBuilder().LengthHeader(PickleOpcode.BinUnicode, 10).Ascii("ZZZZZ");
        return new PickleBuilder().Proto(4).Frame((ulong)body.Position).Raw(body.ToArray())
            .Ascii("aaaaa").LengthHeader(PickleOpcode.BinUnicode, (ulong)hidden.Length).Raw(hidden)
            .Raw(tail.ToArray()).ToArray();
    }
}
