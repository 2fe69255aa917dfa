using Xunit;
using static StateDict.Tests.Pickle.PickleAssert;

namespace StateDict.Tests.Pickle;

/// <summary>
/// Strings decode as CPython's unpickler decodes them: BINUNICODE and friends with <c>surrogatepass</c> (a lone
/// surrogate encoded in UTF-8 is a character, so refusing it would hide whatever Python reads after it), BINSTRING
/// with torch.load's strict <c>encoding='utf-8'</c>. Expected values are CPython 3.11's <c>pickle.loads</c>.
/// </summary>
public class StringDecodingTests
{
    [Fact]
    public void BINUNICODE_keeps_a_lone_surrogate_as_CPython_does()
    {
        // pickle.loads(b'\x80\x02X\x03\x00\x00\x00\xed\xa0\x80.') == '\ud800'
        Assert.Equal("\ud800", Root(new PickleBuilder().Proto(2).BinUnicode([0xed, 0xa0, 0x80]).Stop()));
    }

    [Fact]
    public void SHORT_BINUNICODE_keeps_a_lone_surrogate_between_other_characters()
    {
        // pickle.loads(b'\x80\x04\x8c\x06a\xed\xb0\x80bc\x94.') == 'a\udc00bc'
        var pickle = new PickleBuilder().Proto(4).Op(StateDict.Pickle.PickleOpcode.ShortBinUnicode).Raw(6, (byte)'a', 0xed, 0xb0, 0x80, (byte)'b', (byte)'c').Memoize().Stop();

        Assert.Equal("a\udc00bc", Root(pickle));
    }

    [Fact]
    public void BINUNICODE_that_is_not_UTF_8_even_with_surrogates_is_corrupt()
    {
        // pickle.loads(b'\x80\x02X\x02\x00\x00\x00\xc3(.'): UnicodeDecodeError
        Corrupt(new PickleBuilder().Proto(2).BinUnicode([0xc3, (byte)'(']).Stop(), 2, "string is not valid UTF-8");
    }

    [Fact]
    public void BINUNICODE_with_a_surrogate_and_a_bad_byte_after_it_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).BinUnicode([0xed, 0xa0, 0x80, 0xff]).Stop(), 2, "string is not valid UTF-8");
    }

    [Fact]
    public void SHORT_BINSTRING_is_strict_UTF_8_as_torch_load_decodes_it()
    {
        // pickle.loads(b'\x80\x02U\x03\xed\xa0\x80.', encoding='utf-8'): UnicodeDecodeError
        Corrupt(new PickleBuilder().Proto(2).ShortBinString([0xed, 0xa0, 0x80]).Stop(), 2, "string is not valid UTF-8");
    }
}
