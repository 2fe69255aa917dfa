using System.Numerics;
using StateDict.Tests.Pickle;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// A file whose first pickle is torch's legacy magic number is a legacy torch.save file, whatever the pickle protocol
/// and however the number is written (<c>torch.load</c> compares the unpickled value): never a plain pickle, which
/// would read as empty with the magic number as its only value.
/// </summary>
public class LegacyMagicTests
{
    private static readonly string MagicText = LegacyFiles.MagicNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static TheoryData<string> MagicForms() => ["LONG1", "LONG4", "LONG text", "INT text", "memoized", "padded"];

    private static byte[] Magic(string form) => form switch
    {
        "LONG1" => new PickleBuilder().Proto(5).Long1(LegacyFiles.MagicNumber).Stop().ToArray(),
        "LONG4" => new PickleBuilder().Proto(2).Long4(LegacyFiles.MagicNumber).Stop().ToArray(),
        "LONG text" => new PickleBuilder().Long(MagicText + "L").Stop().ToArray(),
        "INT text" => new PickleBuilder().Int(MagicText).Stop().ToArray(),
        "memoized" => new PickleBuilder().Proto(4).Long1(LegacyFiles.MagicNumber).Memoize().Pop().BinGet(0).Stop().ToArray(),
        // Longer than the header the detector looks at: the plain-pickle reader must still hand it over.
        _ => new PickleBuilder().Proto(2).BinUnicode(new string('x', 2000)).Pop().Long1(LegacyFiles.MagicNumber).Stop().ToArray(),
    };

    [Theory]
    [MemberData(nameof(MagicForms))]
    public void Scan_reads_all_five_pickles_whatever_form_the_magic_number_takes(string form)
    {
        // torch.save(..., pickle_protocol=1) of os.system: the dangerous call is in the main (fourth) pickle.
        var main = new PickleBuilder().Global("posix", "system").BinUnicode("echo hi").Tuple1().Reduce().Stop().ToArray();
        using var file = new TempFile(LegacyFiles.Build(Magic(form), main, 1f));

        var report = CheckpointScanner.Scan(file.Path);
        Assert.Equal((ScanVerdict.Unsafe, "legacy"), (report.Verdict, report.Format));
        Assert.Contains(report.Pickles.SelectMany(p => p.Globals), g => g.Name == "posix.system");
        Assert.Contains("posix.system", Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(file.Path)).RefusedGlobals);
    }

    [Theory]
    [MemberData(nameof(MagicForms))]
    public void A_legacy_file_reads_whatever_form_its_magic_number_takes(string form)
    {
        using var file = new TempFile(LegacyFiles.Build(Magic(form), LegacyFiles.StateDict(2), 1.5f, -2f));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.Legacy, checkpoint.Format);
        Assert.Equal([1.5f, -2f], checkpoint.Read<float>("w").ToArray());
        Assert.Empty(checkpoint.Values);
    }

    [Theory]
    [MemberData(nameof(MagicForms))]
    public void A_lone_magic_number_pickle_is_a_broken_legacy_file_not_an_empty_plain_pickle(string form)
    {
        Read.Fails<CheckpointCorruptException>(Magic(form), "legacy protocol version pickle");
    }

    [Fact]
    public void A_magic_number_off_by_one_is_a_plain_pickle_value()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("n").Long1(LegacyFiles.MagicNumber + BigInteger.One).SetItem().Stop().ToArray();
        using var file = new TempFile(pickle, ".pkl");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.Pickle, checkpoint.Format);
        Assert.Equal(LegacyFiles.MagicNumber + BigInteger.One, checkpoint.Values["n"]);
    }

    [Fact]
    public void The_protocol_0_legacy_fixture_is_refused_as_torch_load_refuses_it()
    {
        // torch.save(..., pickle_protocol=0) writes persistent ids as text; torch.load fails with an AssertionError.
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Fixtures.PathOf("legacy_protocol0.pth.expected.json"))))
        {
            Assert.Equal("AssertionError", json.RootElement.GetProperty("torch_load_fails").GetString());
        }

        var e = Assert.ThrowsAny<CheckpointException>(() => Read.All(Fixtures.PathOf("legacy_protocol0.pth")));

        Assert.IsNotType<CheckpointUnsafeException>(e);
        Assert.Contains("persistent id", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Every_protocol_fixture_is_detected_as_legacy(int protocol)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf($"legacy_protocol{protocol}.pth"));

        Assert.Equal(CheckpointFormat.Legacy, checkpoint.Format);
        Assert.Equal(["grid", "column", "steps"], checkpoint.Tensors.Keys);
    }
}
