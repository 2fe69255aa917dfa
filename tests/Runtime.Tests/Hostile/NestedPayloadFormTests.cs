using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// torch.storage._load_from_bytes given its bytes in every form CPython accepts (tests/fixtures/payloads, written and
/// round-tripped by make_payloads.py with CPython's pickler): the payload (an os.system pickle) is reduced exactly as
/// Python would and scanned, so the scanner names posix.system and Open refuses; a form StateDict cannot reduce is
/// unsafe, never clean.
/// </summary>
public class NestedPayloadFormTests
{
    public static TheoryData<string> ReducibleForms() =>
    [
        "bytes_p3", "codecs_latin1_p2", "codecs_iso8859_1_alias", "codecs_utf16le_surrogatepass", "bytearray_of_ints",
        "bytearray_of_latin1_text", "bytearray_of_bytes_p3", "bytearray_of_codecs", "discarded_call",
    ];

    [Theory]
    [MemberData(nameof(ReducibleForms))]
    public void The_payload_is_reduced_like_Python_and_its_global_found(string form)
    {
        var report = CheckpointScanner.Scan(Fixtures.PathOf($"payloads/{form}.pkl"));

        Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
        Assert.Contains(report.Unsafe, g => g.Name == "posix.system" && g.Risk == GlobalRisk.CodeExecution);
    }

    [Theory]
    [MemberData(nameof(ReducibleForms))]
    public void Open_refuses_every_form_as_unsafe(string form)
    {
        var e = Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(Fixtures.PathOf($"payloads/{form}.pkl")));
        Assert.Contains("posix.system", e.RefusedGlobals);
    }

    [Fact]
    public void An_argument_that_cannot_be_reduced_is_unsafe_in_scan_and_open()
    {
        string path = Fixtures.PathOf("payloads/codecs_cp1252_unreducible.pkl");

        var report = CheckpointScanner.Scan(path);

        var finding = Assert.Single(report.Unsafe);
        Assert.Equal("torch.storage._load_from_bytes", finding.Name);
        Assert.Contains("cp1252", finding.Reason, StringComparison.Ordinal);
        Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(path));
    }

    [Fact]
    public void A_payload_whose_outer_pickle_breaks_is_unsafe_not_unreadable()
    {
        // CPython decodes the str with surrogatepass and hands the payload over; StateDict's VM stops at the str, after
        // _load_from_bytes was named: the payload ran in Python and was not scanned here.
        var report = CheckpointScanner.Scan(Fixtures.PathOf("payloads/codecs_utf8_surrogateescape.pkl"));

        Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
        Assert.Contains(report.Unsafe, g => g.Name == "torch.storage._load_from_bytes");
    }
}
