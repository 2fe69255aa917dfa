using System.Numerics;
using System.Text;
using StateDict.Pickle;
using Xunit;
using static StateDict.Tests.Pickle.PickleAssert;

namespace StateDict.Tests.Pickle;

/// <summary>
/// The pickle VM, opcode by opcode, one behaviour per test. Each pickle is written with <see cref="PickleBuilder"/>
/// exactly as CPython's Lib/pickle.py would encode it (byte sequences cross-checked with pickletools).
/// </summary>
public class PickleMachineTests
{
    public static TheoryData<int> AllProtocols() => [0, 1, 2, 3, 4, 5];

    public static TheoryData<int> ProtocolsFrom2() => [2, 3, 4, 5];

    // ------------------------------------------------------------------ framing and the stack

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public void Stop_returns_the_top_of_the_stack(int protocol)
    {
        var result = Run(Start(protocol).BinInt1(1).BinInt1(2).Stop());

        Assert.Equal(2L, result.Root);
    }

    [Fact]
    public void Stop_ends_the_pickle_and_nothing_after_it_is_read()
    {
        var pickle = new PickleBuilder().Proto(2).None().Stop().Raw(0xFF, 0xFF, 0xFF);

        var result = Run(pickle);

        Assert.Same(PyNone.Value, result.Root);
        Assert.Equal(4, result.EndPosition);
    }

    [Theory]
    [MemberData(nameof(ProtocolsFrom2))]
    public void Proto_records_the_protocol(int protocol)
    {
        Assert.Equal(protocol, Run(new PickleBuilder().Proto(protocol).None().Stop()).Protocol);
    }

    [Fact]
    public void A_pickle_without_proto_is_protocol_0()
    {
        Assert.Equal(0, Run(new PickleBuilder().None().Stop()).Protocol);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(255)]
    public void Proto_above_5_is_refused(int protocol)
    {
        Fails<CheckpointFormatException>(new PickleBuilder().Proto(protocol).None().Stop(), 0, $"pickle protocol {protocol}");
    }

    [Fact]
    public void Frame_is_transparent()
    {
        var pickle = new PickleBuilder().Proto(4).Frame(3).BinInt1(7).Stop();

        Assert.Equal(7L, Root(pickle));
    }

    [Fact]
    public void Frame_declaring_more_than_remains_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(4).Frame(1000).None().Stop(), 2, "FRAME declares 1000 bytes but only 2 remain");
    }

    [Fact]
    public void Mark_starts_the_items_a_tuple_collects()
    {
        var root = Root(new PickleBuilder().Proto(2).None().Mark().BinInt1(1).BinInt1(2).Tuple().Tuple2().Stop());

        var outer = Assert.IsType<PyTuple>(root);
        Assert.Same(PyNone.Value, outer.Items[0]);
        Assert.Equal([1L, 2L], Assert.IsType<PyTuple>(outer.Items[1]).Items);
    }

    [Fact]
    public void Marks_nest()
    {
        var root = Root(new PickleBuilder().Mark().BinInt1(1).Mark().BinInt1(2).Tuple().Tuple().Stop());

        var outer = Assert.IsType<PyTuple>(root);
        Assert.Equal(1L, outer.Items[0]);
        Assert.Equal([2L], Assert.IsType<PyTuple>(outer.Items[1]).Items);
    }

    [Fact]
    public void Pop_discards_the_top_item()
    {
        Assert.Equal(1L, Root(new PickleBuilder().BinInt1(1).BinInt1(2).Pop().Stop()));
    }

    [Fact]
    public void Pop_right_after_a_mark_discards_the_mark()
    {
        // CPython: POP with an empty frame pops the mark. The next TUPLE then closes the outer mark.
        var root = Root(new PickleBuilder().Mark().BinInt1(1).Mark().Pop().Tuple().Stop());

        Assert.Equal([1L], Assert.IsType<PyTuple>(root).Items);
    }

    [Fact]
    public void PopMark_discards_everything_since_the_mark()
    {
        Assert.Equal(9L, Root(new PickleBuilder().BinInt1(9).Mark().BinInt1(1).BinInt1(2).PopMark().Stop()));
    }

    [Fact]
    public void Dup_pushes_the_same_object_not_a_copy()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyList().Dup().Tuple2().Stop());

        var tuple = Assert.IsType<PyTuple>(root);
        Assert.IsType<PyList>(tuple.Items[0]);
        Assert.Same(tuple.Items[0], tuple.Items[1]);
    }

    // ------------------------------------------------------------------ integers

    [Fact]
    public void Int_wider_than_64_bits_is_a_BigInteger()
    {
        var root = Root(new PickleBuilder().Int("1180591620717411303424").Stop());

        Assert.Equal(BigInteger.Pow(2, 70), Assert.IsType<BigInteger>(root));
    }

    [Fact]
    public void Int_with_non_digits_is_corrupt()
    {
        Corrupt(new PickleBuilder().Int("12x").Stop(), 0, "could not convert the integer text to int");
    }

    [Theory]
    [InlineData(0, 0L)]
    [InlineData(1, 1L)]
    [InlineData(-1, -1L)]
    [InlineData(int.MaxValue, int.MaxValue)]
    [InlineData(int.MinValue, int.MinValue)]
    public void BinInt_is_a_signed_little_endian_int32(int value, long expected)
    {
        Assert.Equal(expected, Assert.IsType<long>(Root(new PickleBuilder().Proto(2).BinInt(value).Stop())));
    }

    [Fact]
    public void BinInt_bytes_are_little_endian()
    {
        // pickle.dumps(-256, 2) == b'\x80\x02J\x00\xff\xff\xff.'
        Assert.Equal(-256L, Root(new PickleBuilder().Raw(0x80, 0x02, (byte)'J', 0x00, 0xFF, 0xFF, 0xFF, (byte)'.')));
    }

    [Theory]
    [InlineData(0, 0L)]
    [InlineData(128, 128L)]
    [InlineData(255, 255L)]
    public void BinInt1_is_an_unsigned_byte(int value, long expected)
    {
        Assert.Equal(expected, Assert.IsType<long>(Root(new PickleBuilder().BinInt1((byte)value).Stop())));
    }

    [Theory]
    [InlineData(256, 256L)]
    [InlineData(0xFFFF, 65535L)]
    public void BinInt2_is_an_unsigned_little_endian_uint16(int value, long expected)
    {
        Assert.Equal(expected, Assert.IsType<long>(Root(new PickleBuilder().BinInt2((ushort)value).Stop())));
    }

    [Fact]
    public void Long_text_with_a_trailing_L_is_parsed()
    {
        // pickle.dumps(2**70, 0) == b'L1180591620717411303424L\n.'
        var root = Root(new PickleBuilder().Long("1180591620717411303424L").Stop());

        Assert.Equal(BigInteger.Pow(2, 70), Assert.IsType<BigInteger>(root));
    }

    [Fact]
    public void Empty_appends_setitems_and_additems_only_need_a_target_like_CPython()
    {
        // CPython returns before looking at the target when nothing follows the MARK: a no-op on anything.
        Assert.Equal(5L, Root(new PickleBuilder().Proto(2).BinInt1(5).Mark().Appends().Stop()));
        Assert.Equal(5L, Root(new PickleBuilder().Proto(2).BinInt1(5).Mark().SetItems().Stop()));
        Assert.Equal(5L, Root(new PickleBuilder().Proto(2).BinInt1(5).Mark().AddItems().Stop()));
        Assert.Throws<CheckpointCorruptException>(() => Root(new PickleBuilder().Proto(2).Mark().Appends().Stop()));
    }

    /// <summary>Protocol-0 number lines and what CPython 3.11's pickle.loads made of each (its answers, recorded).</summary>
    public static TheoryData<string, string> CPythonTextNumbers() => new()
    {
        { "I0011", "9" }, { "I0x1F", "31" }, { "I -5", "-5" }, { "I1_000", "1000" }, { "I08", "error" }, { "I0\0", "False" },
        { "I\0", "0" }, { "I 1", "True" }, { "I+1", "True" }, { "I9223372036854775808", "9223372036854775808" },
        { "I0b101", "5" }, { "I0o17", "15" }, { "I1 ", "1" }, { "L0011L", "error" }, { "L0x_ffL", "255" }, { "L12", "12" },
        { "L1__0L", "error" }, { "L000L", "0" }, { "L 7 L", "7" }, { "F1e309", "error" }, { "F1e-400", "0000000000000000" },
        { "F-nan", "fff8000000000000" }, { "Fnan", "7ff8000000000000" }, { "F inf", "error" }, { "F1.", "3ff0000000000000" },
        { "F.5e1", "4014000000000000" }, { "F1_0", "error" }, { "FInfinity", "7ff0000000000000" }, { "F1e", "error" },
        { "F2.5\0zz", "4004000000000000" }, { "I42", "42" }, { "I-7", "-7" }, { "I0", "0" },
        { "I9223372036854775807", "9223372036854775807" }, { "I-9223372036854775808", "-9223372036854775808" },
        { "I01", "True" }, { "I00", "False" }, { "L5L", "5" }, { "L-5", "-5" }, { "L0L", "0" }, { "L1", "1" }, { "L01L", "error" },
    };

    [Theory]
    [MemberData(nameof(CPythonTextNumbers))]
    public void Text_numbers_read_as_cpython_reads_them(string line, string python)
    {
        var pickle = new PickleBuilder().Op((PickleOpcode)line[0]).Ascii(line[1..] + "\n").Stop();
        if (python == "error")
        {
            Assert.Throws<CheckpointCorruptException>(() => Root(pickle));
            return;
        }
        string ours = Root(pickle) switch
        {
            double d => BitConverter.DoubleToInt64Bits(d).ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
            bool b => b ? "True" : "False",
            var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
        };
        Assert.Equal(python, ours);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, -1L)]
    [InlineData(new byte[] { 0x00, 0xFF }, -256L)]
    [InlineData(new byte[] { 0x80, 0x00 }, 128L)]
    [InlineData(new byte[] { 0x80 }, -128L)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }, long.MaxValue)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80 }, long.MinValue)]
    public void Long1_is_little_endian_twos_complement(byte[] digits, long expected)
    {
        Assert.Equal(expected, Assert.IsType<long>(Root(new PickleBuilder().Proto(2).Long1(digits).Stop())));
    }

    [Fact]
    public void Long1_of_zero_bytes_is_zero()
    {
        Assert.Equal(0L, Assert.IsType<long>(Root(new PickleBuilder().Proto(2).Long1([]).Stop())));
    }

    [Theory]
    [InlineData("1180591620717411303424")]      // 2**70: pickle.dumps gives 8a 09 00*8 40
    [InlineData("-1180591620717411303424")]     // -2**70: 8a 09 00*8 c0
    [InlineData("18446744073709551616")]        // 2**64
    [InlineData("9223372036854775808")]         // long.MaxValue + 1
    public void Long1_wider_than_8_bytes_is_a_BigInteger(string value)
    {
        var expected = BigInteger.Parse(value, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(expected, Assert.IsType<BigInteger>(Root(new PickleBuilder().Proto(2).Long1(expected).Stop())));
    }

    [Fact]
    public void Long1_bytes_match_what_CPython_writes()
    {
        // pickle.dumps(-2**70, 2)
        byte[] cpython = [0x80, 0x02, 0x8A, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 0x2E];

        Assert.Equal(-BigInteger.Pow(2, 70), Root(new PickleBuilder().Raw(cpython)));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, -1L)]
    [InlineData(new byte[] { 0x00, 0x01 }, 256L)]
    public void Long4_is_little_endian_twos_complement(byte[] digits, long expected)
    {
        Assert.Equal(expected, Assert.IsType<long>(Root(new PickleBuilder().Proto(2).Long4(digits).Stop())));
    }

    [Fact]
    public void Long4_of_zero_bytes_is_zero()
    {
        Assert.Equal(0L, Assert.IsType<long>(Root(new PickleBuilder().Proto(2).Long4([]).Stop())));
    }

    [Fact]
    public void Long4_wider_than_8_bytes_is_a_BigInteger()
    {
        var expected = -BigInteger.Pow(3, 100);

        Assert.Equal(expected, Assert.IsType<BigInteger>(Root(new PickleBuilder().Proto(2).Long4(expected).Stop())));
    }

    [Fact]
    public void Long4_with_a_negative_length_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).Long4Header(-1).Stop(), 2, "LONG4 has negative length -1");
    }

    // ------------------------------------------------------------------ floats and singletons

    [Theory]
    [InlineData("2.5", 2.5)]
    [InlineData("-1e-10", -1e-10)]
    [InlineData("1.7976931348623157e+308", double.MaxValue)]
    [InlineData("0.1", 0.1)]
    public void Float_parses_repr_text(string text, double expected)
    {
        Assert.Equal(expected, Assert.IsType<double>(Root(new PickleBuilder().Float(text).Stop())));
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("inf")]
    [InlineData("-inf")]
    public void Float_parses_python_special_values(string text)
    {
        double value = Assert.IsType<double>(Root(new PickleBuilder().Float(text).Stop()));

        Assert.Equal(text, PyValue.PythonFloat(value));
    }

    [Fact]
    public void Float_with_garbage_is_corrupt()
    {
        Corrupt(new PickleBuilder().BinInt1(0).Float("2.5.5").Stop(), 2, "could not convert the FLOAT text to float");
    }

    [Fact]
    public void BinFloat_is_big_endian()
    {
        // pickle.dumps(2.5, 2) == b'\x80\x02G@\x04\x00\x00\x00\x00\x00\x00.'
        byte[] cpython = [0x80, 0x02, (byte)'G', 0x40, 0x04, 0, 0, 0, 0, 0, 0, (byte)'.'];

        Assert.Equal(2.5, Assert.IsType<double>(Root(new PickleBuilder().Raw(cpython))));
    }

    [Theory]
    [InlineData(-0.0)]
    [InlineData(1e-300)]
    [InlineData(double.NegativeInfinity)]
    public void BinFloat_round_trips_every_double(double value)
    {
        double read = Assert.IsType<double>(Root(new PickleBuilder().Proto(2).BinFloat(value).Stop()));

        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(read));
    }

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public void None_is_the_None_singleton(int protocol)
    {
        Assert.Same(PyNone.Value, Root(Start(protocol).None().Stop()));
    }

    [Fact]
    public void NewTrue_is_true()
    {
        Assert.True(Assert.IsType<bool>(Root(new PickleBuilder().Proto(2).NewTrue().Stop())));
    }

    [Fact]
    public void NewFalse_is_false()
    {
        Assert.False(Assert.IsType<bool>(Root(new PickleBuilder().Proto(2).NewFalse().Stop())));
    }

    // ------------------------------------------------------------------ str

    [Theory]
    [InlineData("'abc'", "abc")]
    [InlineData("\"abc\"", "abc")]
    [InlineData("''", "")]
    [InlineData("\"it's\"", "it's")]
    public void String_strips_its_quotes(string quoted, string expected)
    {
        Assert.Equal(expected, Root(new PickleBuilder().String(quoted).Stop()));
    }

    [Fact]
    public void String_decodes_python_2_repr_escapes()
    {
        // Python 2: repr('a\nb\tc\rd\\e\'f\x00g\x41') (with " quotes to show \' is still an escape).
        var root = Root(new PickleBuilder().String(@"'a\nb\tc\rd\\e\'f\x00g\x41\""h'").Stop());

        Assert.Equal("a\nb\tc\rd\\e'f\0gA\"h", root);
    }

    [Fact]
    public void String_keeps_unknown_escapes_verbatim()
    {
        Assert.Equal(@"a\qb", Root(new PickleBuilder().String(@"'a\qb'").Stop()));
    }

    [Fact]
    public void String_bytes_decode_as_utf8_like_BinString()
    {
        // torch.load unpickles with encoding='utf-8': STRING, BINSTRING and SHORT_BINSTRING all decode their bytes as UTF-8.
        var viaString = Root(new PickleBuilder().String(@"'caf\xc3\xa9'").Stop());
        var viaBinString = Root(new PickleBuilder().BinString([0x63, 0x61, 0x66, 0xC3, 0xA9]).Stop());

        Assert.Equal("café", viaBinString);
        Assert.Equal(viaBinString, viaString);
    }

    [Fact]
    public void String_bytes_that_are_not_utf8_are_corrupt()
    {
        Corrupt(new PickleBuilder().String(@"'caf\xe9'").Stop(), 0, "STRING is not valid UTF-8");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("'abc")]
    [InlineData("'abc\"")]
    [InlineData("'")]
    public void String_without_matching_quotes_is_corrupt(string argument)
    {
        Corrupt(new PickleBuilder().String(argument).Stop(), 0, "STRING argument is not quoted");
    }

    [Fact]
    public void String_ending_inside_an_escape_is_corrupt()
    {
        Corrupt(new PickleBuilder().String(@"'ab\'").Stop(), 0, "STRING ends with a lone backslash");
    }

    [Fact]
    public void BinString_is_a_str()
    {
        Assert.Equal("hello", Root(new PickleBuilder().BinString("hello"u8.ToArray()).Stop()));
    }

    [Fact]
    public void ShortBinString_is_a_str()
    {
        Assert.Equal("hi", Root(new PickleBuilder().ShortBinString("hi"u8.ToArray()).Stop()));
    }

    [Fact]
    public void Unicode_decodes_raw_unicode_escape()
    {
        // pickle.dumps('café \U0001F600', 0) writes the é as the Latin-1 byte 0xE9, the emoji as \U0001f600.
        var pickle = new PickleBuilder().Op(PickleOpcode.Unicode).Raw("caf"u8.ToArray()).Raw(0xE9).Ascii(@" \u00e9 \U0001f600" + "\n").Stop();

        Assert.Equal("café é \U0001F600", Root(pickle));
    }

    [Fact]
    public void Unicode_with_a_truncated_escape_is_corrupt()
    {
        Corrupt(new PickleBuilder().Unicode(@"ab\u00").Stop(), 0, "UNICODE has a truncated \\uXXXX escape");
    }

    [Fact]
    public void Unicode_with_a_non_hex_escape_is_corrupt()
    {
        Corrupt(new PickleBuilder().Unicode(@"\uzzzz").Stop(), 0, "UNICODE has a truncated \\uXXXX escape");
    }

    [Theory]
    [MemberData(nameof(ProtocolsFrom2))]
    public void BinUnicode_is_utf8(int protocol)
    {
        Assert.Equal("fc1.wéight ∑ \U0001F600", Root(Start(protocol).BinUnicode("fc1.wéight ∑ \U0001F600").Stop()));
    }

    [Fact]
    public void ShortBinUnicode_is_utf8()
    {
        Assert.Equal("ключ", Root(new PickleBuilder().Proto(4).ShortBinUnicode("ключ").Stop()));
    }

    [Fact]
    public void BinUnicode8_is_utf8()
    {
        Assert.Equal("long ✓", Root(new PickleBuilder().Proto(4).BinUnicode8("long ✓").Stop()));
    }

    [Fact]
    public void Empty_strings_are_empty()
    {
        var root = Root(new PickleBuilder().Proto(4).Mark().BinUnicode("").ShortBinUnicode("").BinUnicode8("").ShortBinString([]).Tuple().Stop());

        Assert.Equal(["", "", "", ""], Assert.IsType<PyTuple>(root).Items);
    }

    [Fact]
    public void BinUnicode_that_is_not_utf8_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).BinInt1(1).BinUnicode([0x61, 0xFF, 0x62]).Stop(), 4, "string is not valid UTF-8");
    }

    // ------------------------------------------------------------------ bytes

    [Fact]
    public void BinBytes_is_immutable_bytes()
    {
        var bytes = Assert.IsType<PyBytes>(Root(new PickleBuilder().Proto(3).BinBytes([0, 1, 2, 255]).Stop()));

        Assert.Equal([0, 1, 2, 255], bytes.Data);
        Assert.False(bytes.Mutable);
    }

    [Fact]
    public void ShortBinBytes_is_immutable_bytes()
    {
        var bytes = Assert.IsType<PyBytes>(Root(new PickleBuilder().Proto(3).ShortBinBytes([0, 1]).Stop()));

        Assert.Equal([0, 1], bytes.Data);
        Assert.False(bytes.Mutable);
    }

    [Fact]
    public void BinBytes8_is_immutable_bytes()
    {
        var bytes = Assert.IsType<PyBytes>(Root(new PickleBuilder().Proto(4).BinBytes8([9, 8, 7]).Stop()));

        Assert.Equal([9, 8, 7], bytes.Data);
        Assert.False(bytes.Mutable);
    }

    [Fact]
    public void ByteArray8_is_a_mutable_bytearray()
    {
        var bytes = Assert.IsType<PyBytes>(Root(new PickleBuilder().Proto(5).ByteArray8([1, 2]).Stop()));

        Assert.Equal([1, 2], bytes.Data);
        Assert.True(bytes.Mutable);
        Assert.Equal("bytearray", PyValue.TypeName(bytes));
    }

    [Fact]
    public void Bytes_are_copied_out_of_the_input()
    {
        var data = new PickleBuilder().Proto(3).ShortBinBytes([1, 2]).Stop().ToArray();
        var bytes = (PyBytes)Run(data).Root;

        data[4] = 99;

        Assert.Equal([1, 2], bytes.Data);
    }

    // ------------------------------------------------------------------ tuples

    [Fact]
    public void EmptyTuple_has_no_items()
    {
        Assert.Equal(0, Assert.IsType<PyTuple>(Root(new PickleBuilder().Proto(2).EmptyTuple().Stop())).Items.Count);
    }

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public void Tuple_collects_the_items_since_the_mark_in_order(int protocol)
    {
        var root = Root(Start(protocol).Mark().Int(1).Int(2).Int(3).Tuple().Stop());

        Assert.Equal([1L, 2L, 3L], Assert.IsType<PyTuple>(root).Items);
    }

    [Fact]
    public void Tuple_of_an_empty_mark_is_empty()
    {
        Assert.Equal(0, Assert.IsType<PyTuple>(Root(new PickleBuilder().Mark().Tuple().Stop())).Items.Count);
    }

    [Fact]
    public void Tuple1_wraps_the_top_item()
    {
        Assert.Equal([5L], Assert.IsType<PyTuple>(Root(new PickleBuilder().Proto(2).BinInt1(5).Tuple1().Stop())).Items);
    }

    [Fact]
    public void Tuple2_keeps_push_order()
    {
        Assert.Equal([1L, 2L], Assert.IsType<PyTuple>(Root(new PickleBuilder().Proto(2).BinInt1(1).BinInt1(2).Tuple2().Stop())).Items);
    }

    [Fact]
    public void Tuple3_keeps_push_order()
    {
        var root = Root(new PickleBuilder().Proto(2).BinInt1(1).BinInt1(2).BinInt1(3).Tuple3().Stop());

        Assert.Equal([1L, 2L, 3L], Assert.IsType<PyTuple>(root).Items);
    }

    [Fact]
    public void Tuple2_leaves_the_items_below_it_alone()
    {
        var root = Root(new PickleBuilder().Proto(2).BinInt1(0).BinInt1(1).BinInt1(2).Tuple2().Tuple2().Stop());

        var outer = Assert.IsType<PyTuple>(root);
        Assert.Equal(0L, outer.Items[0]);
        Assert.Equal([1L, 2L], Assert.IsType<PyTuple>(outer.Items[1]).Items);
    }

    [Fact]
    public void Tuple1_to_3_below_a_mark_is_a_stack_underflow_as_in_CPython()
    {
        Fails<CheckpointCorruptException>(new PickleBuilder().Proto(2).BinInt1(1).Mark().BinInt1(2).Tuple2().Stop(), 7, "stack underflow");
        Fails<CheckpointCorruptException>(new PickleBuilder().Proto(2).BinInt1(1).BinInt1(2).Tuple3().Stop(), 6, "stack underflow");
    }

    [Fact]
    public void Equal_tuples_of_ints_are_one_shared_object_and_other_tuples_are_not()
    {
        // Sizes and strides: (16, 16) twice, (16, 1), then (1,) against (True,), equal in Python but not the same value here.
        var root = Root(new PickleBuilder().Proto(2).Mark()
            .BinInt1(16).BinInt1(16).Tuple2()
            .BinInt1(16).BinInt1(16).Tuple2()
            .BinInt1(16).BinInt1(1).Tuple2()
            .BinInt1(1).Tuple1()
            .NewTrue().Tuple1()
            .Mark().BinUnicode("a").Tuple().Mark().BinUnicode("a").Tuple()
            .Mark().BinInt1(1).BinInt1(2).BinInt1(3).BinInt1(4).BinInt1(5).Tuple().Mark().BinInt1(1).BinInt1(2).BinInt1(3).BinInt1(4).BinInt1(5).Tuple()
            .List().Stop());

        var items = Assert.IsType<PyList>(root).Items;
        Assert.Same(items[0], items[1]);
        Assert.Equal([16L, 16L], ((PyTuple)items[0]).Items);
        Assert.Equal([16L, 1L], ((PyTuple)items[2]).Items);
        Assert.Equal([1L], ((PyTuple)items[3]).Items);
        Assert.Equal([true], ((PyTuple)items[4]).Items);
        Assert.NotSame(items[5], items[6]);
        Assert.NotSame(items[7], items[8]);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], ((PyTuple)items[8]).Items);
    }

    [Fact]
    public void Many_tuples_keep_their_own_items_across_shared_blocks()
    {
        // 3,000 string triples (9,000 items: several blocks of the VM's tuple slab), 5,000 distinct int pairs (more than
        // the shared-shape table holds) and one 100-item tuple (its own array): each must read back exactly.
        var pickle = new PickleBuilder().Proto(2).Mark();
        for (int i = 0; i < 3000; i++)
        {
            pickle.BinUnicode($"k{i}").BinUnicode($"s{i}").BinInt(i).Tuple3();
        }
        for (int i = 0; i < 5000; i++)
        {
            pickle.BinInt(i).BinInt(-i).Tuple2();
        }
        pickle.Mark();
        for (int i = 0; i < 100; i++)
        {
            pickle.BinInt(i);
        }
        var items = Assert.IsType<PyList>(Root(pickle.Tuple().List().Stop())).Items;

        Assert.Equal(8001, items.Count);
        for (int i = 0; i < 3000; i++)
        {
            Assert.Equal([$"k{i}", $"s{i}", (long)i], ((PyTuple)items[i]).Items);
        }
        for (int i = 0; i < 5000; i++)
        {
            Assert.Equal([(long)i, (long)-i], ((PyTuple)items[3000 + i]).Items);
        }
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (object)(long)i), ((PyTuple)items[8000]).Items);
    }

    // ------------------------------------------------------------------ lists

    [Fact]
    public void EmptyList_is_an_empty_list()
    {
        Assert.Empty(Assert.IsType<PyList>(Root(new PickleBuilder().EmptyList().Stop())).Items);
    }

    [Fact]
    public void List_collects_the_items_since_the_mark()
    {
        var root = Root(new PickleBuilder().Mark().Int(1).Int(2).List().Stop());

        Assert.Equal([1L, 2L], Assert.IsType<PyList>(root).Items);
    }

    [Fact]
    public void Append_adds_the_top_item_to_the_list_below_it()
    {
        var root = Root(new PickleBuilder().EmptyList().Int(1).Append().Int(2).Append().Stop());

        Assert.Equal([1L, 2L], Assert.IsType<PyList>(root).Items);
    }

    [Fact]
    public void Appends_adds_every_item_since_the_mark_in_order()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyList().BinInt1(0).Append().Mark().BinInt1(1).BinInt1(2).BinInt1(3).Appends().Stop());

        Assert.Equal([0L, 1L, 2L, 3L], Assert.IsType<PyList>(root).Items);
    }

    [Fact]
    public void Appends_of_an_empty_mark_adds_nothing()
    {
        Assert.Empty(Assert.IsType<PyList>(Root(new PickleBuilder().Proto(2).EmptyList().Mark().Appends().Stop())).Items);
    }

    // ------------------------------------------------------------------ dicts

    [Fact]
    public void EmptyDict_is_an_empty_dict()
    {
        Assert.Empty(Assert.IsType<PyDict>(Root(new PickleBuilder().Proto(2).EmptyDict().Stop())).Items);
    }

    [Fact]
    public void Dict_pairs_the_items_since_the_mark()
    {
        var root = Root(new PickleBuilder().Mark().Unicode("a").Int(1).Unicode("b").Int(2).Dict().Stop());

        Assert.Equal([new("a", 1L), new("b", 2L)], Assert.IsType<PyDict>(root).Items);
    }

    [Fact]
    public void Dict_with_an_odd_number_of_items_is_corrupt()
    {
        var pickle = new PickleBuilder().Mark().Unicode("a").Int(1).Unicode("b");
        int at = pickle.Position;

        Corrupt(pickle.Dict().Stop(), at, "odd number of items (3)");
    }

    [Fact]
    public void SetItem_adds_one_pair()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyDict().BinUnicode("a").BinInt1(1).SetItem().Stop());

        Assert.Equal([new("a", 1L)], Assert.IsType<PyDict>(root).Items);
    }

    [Fact]
    public void SetItems_adds_pairs_in_insertion_order()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyDict().Mark()
            .BinUnicode("z").BinInt1(1).BinUnicode("a").BinInt1(2).BinUnicode("m").BinInt1(3).SetItems().Stop());

        Assert.Equal([new("z", 1L), new("a", 2L), new("m", 3L)], Assert.IsType<PyDict>(root).Items);
    }

    [Fact]
    public void SetItems_with_an_odd_number_of_items_is_corrupt()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Mark().BinInt1(1);
        int at = pickle.Position;

        Corrupt(pickle.SetItems().Stop(), at, "odd number of items (1)");
    }

    [Fact]
    public void A_dict_key_set_twice_keeps_the_last_value_as_in_python()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyDict().Mark().BinUnicode("k").BinInt1(1).BinUnicode("k").BinInt1(2).SetItems().Stop());

        Assert.Equal([new("k", 2L)], Assert.IsType<PyDict>(root).Items);
    }

    [Fact]
    public void Dict_keys_can_be_any_value()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyDict().BinInt1(0).None().SetItem().Stop());

        Assert.Equal([new(0L, PyNone.Value)], Assert.IsType<PyDict>(root).Items);
    }

    // ------------------------------------------------------------------ sets

    [Fact]
    public void EmptySet_is_an_empty_mutable_set()
    {
        var set = Assert.IsType<PySet>(Root(new PickleBuilder().Proto(4).EmptySet().Stop()));

        Assert.Empty(set.Items);
        Assert.False(set.Frozen);
    }

    [Fact]
    public void AddItems_adds_every_item_since_the_mark()
    {
        var root = Root(new PickleBuilder().Proto(4).EmptySet().Mark().BinInt1(1).BinInt1(2).AddItems().Mark().BinInt1(3).AddItems().Stop());

        Assert.Equal([1L, 2L, 3L], Assert.IsType<PySet>(root).Items);
    }

    [Fact]
    public void FrozenSet_collects_the_items_since_the_mark()
    {
        var set = Assert.IsType<PySet>(Root(new PickleBuilder().Proto(4).Mark().BinInt1(1).BinInt1(2).FrozenSet().Stop()));

        Assert.Equal([1L, 2L], set.Items);
        Assert.True(set.Frozen);
        Assert.Equal("frozenset", PyValue.TypeName(set));
    }

    [Fact]
    public void AddItems_to_a_frozenset_is_corrupt()
    {
        var pickle = new PickleBuilder().Proto(4).Mark().FrozenSet().Mark().BinInt1(1);
        int at = pickle.Position;

        Corrupt(pickle.AddItems().Stop(), at, "ADDITEMS on a frozenset, which needs an add method");
    }

    // ------------------------------------------------------------------ memo

    [Fact]
    public void Put_and_Get_share_one_object()
    {
        var root = Root(new PickleBuilder().Mark().List().Put(0).Get(0).Tuple2().Stop());

        var tuple = Assert.IsType<PyTuple>(root);
        Assert.Same(tuple.Items[0], tuple.Items[1]);
    }

    [Fact]
    public void BinPut_and_BinGet_share_one_object()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyDict().BinPut(255).BinGet(255).Tuple2().Stop());

        var tuple = Assert.IsType<PyTuple>(root);
        Assert.IsType<PyDict>(tuple.Items[0]);
        Assert.Same(tuple.Items[0], tuple.Items[1]);
    }

    [Fact]
    public void LongBinPut_and_LongBinGet_share_one_object()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyList().LongBinPut(0xFFFFFFFF).LongBinGet(0xFFFFFFFF).Tuple2().Stop());

        var tuple = Assert.IsType<PyTuple>(root);
        Assert.Same(tuple.Items[0], tuple.Items[1]);
    }

    [Fact]
    public void Memo_slots_written_by_any_put_are_read_by_any_get()
    {
        var root = Root(new PickleBuilder().Proto(2).EmptyList().BinPut(7).Pop().LongBinGet(7).Get(7).Tuple2().Stop());

        var tuple = Assert.IsType<PyTuple>(root);
        Assert.IsType<PyList>(tuple.Items[0]);
        Assert.Same(tuple.Items[0], tuple.Items[1]);
    }

    [Fact]
    public void Put_leaves_the_object_on_the_stack()
    {
        Assert.Equal(3L, Root(new PickleBuilder().Proto(2).BinInt1(3).BinPut(0).Stop()));
    }

    [Fact]
    public void Memoize_uses_consecutive_slots_from_zero()
    {
        var root = Root(new PickleBuilder().Proto(4)
            .ShortBinUnicode("a").Memoize().ShortBinUnicode("b").Memoize().ShortBinUnicode("c").Memoize()
            .Pop().Pop().Pop().BinGet(2).BinGet(0).BinGet(1).Tuple3().Stop());

        Assert.Equal(["c", "a", "b"], Assert.IsType<PyTuple>(root).Items);
    }

    [Fact]
    public void Memoize_after_a_sparse_put_takes_the_memo_size_as_its_slot()
    {
        // CPython: memo[len(memo)] = top. One slot (9) is set, so MEMOIZE writes slot 1.
        var root = Root(new PickleBuilder().Proto(4).BinInt1(9).BinPut(9).BinInt1(1).Memoize().Pop().Pop().BinGet(1).Stop());

        Assert.Equal(1L, root);
    }

    [Fact]
    public void Put_overwrites_a_slot()
    {
        var root = Root(new PickleBuilder().Proto(2).BinInt1(1).BinPut(0).BinInt1(2).BinPut(0).Pop().Pop().BinGet(0).Stop());

        Assert.Equal(2L, root);
    }

    [Fact]
    public void A_mutated_memoized_list_is_seen_through_every_reference()
    {
        // l = []; t = (l, l); l.append(1): both tuple items see the append.
        var root = Root(new PickleBuilder().Proto(2).EmptyList().BinPut(0).BinGet(0).BinGet(0).Tuple2().BinPut(1).Pop()
            .BinInt1(1).Append().Pop().BinGet(1).Stop());

        var tuple = Assert.IsType<PyTuple>(root);
        Assert.Same(tuple.Items[0], tuple.Items[1]);
        Assert.Equal([1L], ((PyList)tuple.Items[0]).Items);
    }

    [Fact]
    public void Get_with_a_malformed_index_is_corrupt()
    {
        Corrupt(new PickleBuilder().None().Put(0).Op(PickleOpcode.Get).Ascii("x0\n").Stop(), 4, "malformed GET index");
    }

    // ------------------------------------------------------------------ globals

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public void Global_is_recorded_as_a_name_with_its_offset(int protocol)
    {
        var pickle = Start(protocol).None().Pop();
        int at = pickle.Position;

        var result = Run(pickle.Global("posix", "system").Stop());

        var global = Assert.IsType<PyGlobal>(result.Root);
        Assert.Equal("posix", global.Module);
        Assert.Equal("system", global.Name);
        Assert.Equal("posix.system", global.FullName);
        Assert.Equal(at, global.Offset);
        Assert.Equal([global], result.Globals);
    }

    [Theory]
    [InlineData("__builtin__", "eval", "builtins.eval")]
    [InlineData("__builtin__", "set", "builtins.set")]
    [InlineData("copy_reg", "_reconstructor", "copyreg._reconstructor")]
    [InlineData("builtins", "exec", "builtins.exec")]
    public void Python_2_module_names_are_canonicalised(string module, string name, string expected)
    {
        var result = Run(new PickleBuilder().Global(module, name).Stop());

        Assert.Equal(expected, ((PyGlobal)result.Root).FullName);
        Assert.Equal(expected, Assert.Single(result.Globals).FullName);
    }

    [Fact]
    public void StackGlobal_names_a_global_from_two_strings()
    {
        var pickle = new PickleBuilder().Proto(4).ShortBinUnicode("collections").ShortBinUnicode("OrderedDict");
        int at = pickle.Position;

        var result = Run(pickle.StackGlobal().Stop());

        var global = Assert.IsType<PyGlobal>(result.Root);
        Assert.Equal("collections.OrderedDict", global.FullName);
        Assert.Equal(at, global.Offset);
        Assert.Same(global, Assert.Single(result.Globals));
    }

    [Fact]
    public void StackGlobal_canonicalises_python_2_module_names()
    {
        Assert.Equal("builtins.getattr", ((PyGlobal)Root(new PickleBuilder().Proto(4).StackGlobal("__builtin__", "getattr").Stop())).FullName);
    }

    [Fact]
    public void StackGlobal_takes_strings_from_the_memo()
    {
        // A computed name, as scanners-evading pickles do: the strings come from BINGET, not literals.
        var root = Root(new PickleBuilder().Proto(4).ShortBinUnicode("posix").Memoize().ShortBinUnicode("system").Memoize()
            .Pop().Pop().BinGet(0).BinGet(1).StackGlobal().Stop());

        Assert.Equal("posix.system", ((PyGlobal)root).FullName);
    }

    [Fact]
    public void Globals_lists_each_name_once_in_order_of_first_appearance()
    {
        var result = Run(new PickleBuilder().Proto(4).Mark()
            .Global("torch", "FloatStorage")
            .StackGlobal("collections", "OrderedDict")
            .Global("torch", "FloatStorage")
            .Global("__builtin__", "set")
            .StackGlobal("builtins", "set")
            .Global("collections", "OrderedDict")
            .Tuple().Stop());

        Assert.Equal(["torch.FloatStorage", "collections.OrderedDict", "builtins.set"], result.Globals.Select(g => g.FullName));
        Assert.Equal(3, result.Globals[0].Offset);
    }

    [Fact]
    public void Globals_are_never_resolved()
    {
        // A module that cannot exist in any Python is just a name.
        var global = (PyGlobal)Root(new PickleBuilder().Global("no such module", "not even an identifier!").Stop());

        Assert.Equal("no such module.not even an identifier!", global.FullName);
    }

    [Fact]
    public void Global_lines_are_utf8_like_cpython()
    {
        // CPython's load_global decodes both lines as UTF-8 (strict) and imports what they name.
        var global = Assert.IsType<PyGlobal>(Root(new PickleBuilder().Op(PickleOpcode.Global).Raw(0xC3, 0xA9).Ascii("\nx\n").Stop()));
        Assert.Equal("\u00e9.x", global.FullName);
        Corrupt(new PickleBuilder().Op(PickleOpcode.Global).Raw(0xC3).Ascii("\nx\n").Stop(), 0, "string is not valid UTF-8");
        Corrupt(new PickleBuilder().Op(PickleOpcode.Global).Ascii("\nx\n").Stop(), 0, "GLOBAL module is an empty line");
    }

    // ------------------------------------------------------------------ calls: recorded, never made

    [Fact]
    public void Reduce_records_the_call_and_calls_nothing()
    {
        var pickle = new PickleBuilder().Proto(2).Global("posix", "system").BinUnicode("echo pwned").Tuple1();
        int at = pickle.Position;

        var call = Assert.IsType<PyCall>(Root(pickle.Reduce().Stop()));

        Assert.Equal(CallKind.Reduce, call.Kind);
        Assert.Equal("posix.system", call.Global!.FullName);
        Assert.Equal(["echo pwned"], call.Args.Items);
        Assert.Equal(at, call.Offset);
        Assert.Empty(call.States);
    }

    [Fact]
    public void Reduce_accepts_any_callable_value()
    {
        // The callable may itself be a call result (getattr(...)(...) chains): it is kept as data.
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(2)
            .Global("builtins", "getattr").Global("os", "path").BinUnicode("join").Tuple2().Reduce()
            .EmptyTuple().Reduce().Stop()));

        Assert.Null(call.Global);
        Assert.Equal("builtins.getattr", ((PyCall)call.Callable).Global!.FullName);
    }

    [Fact]
    public void Reduce_with_non_tuple_arguments_is_corrupt()
    {
        var pickle = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyList();
        int at = pickle.Position;

        Corrupt(pickle.Reduce().Stop(), at, "REDUCE arguments must be a tuple, got list");
    }

    [Fact]
    public void NewObj_records_the_instantiation()
    {
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(2).Global("torch.nn.parameter", "Parameter").BinInt1(1).Tuple1().NewObj().Stop()));

        Assert.Equal(CallKind.NewObj, call.Kind);
        Assert.Equal("torch.nn.parameter.Parameter", call.Global!.FullName);
        Assert.Equal([1L], call.Args.Items);
        Assert.Null(call.Kwargs);
    }

    [Fact]
    public void NewObjEx_records_arguments_and_keyword_arguments()
    {
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(4)
            .StackGlobal("m", "C").BinInt1(1).Tuple1().EmptyDict().BinUnicode("k").BinInt1(2).SetItem().NewObjEx().Stop()));

        Assert.Equal(CallKind.NewObj, call.Kind);
        Assert.Equal("m.C", call.Global!.FullName);
        Assert.Equal([1L], call.Args.Items);
        Assert.Equal([new("k", 2L)], Assert.IsType<PyDict>(call.Kwargs).Items);
    }

    [Fact]
    public void NewObj_with_non_tuple_arguments_is_corrupt()
    {
        var pickle = new PickleBuilder().Proto(2).Global("m", "C").None();
        int at = pickle.Position;

        Corrupt(pickle.NewObj().Stop(), at, "NEWOBJ arguments must be a tuple, got None");
    }

    [Fact]
    public void Inst_records_the_class_and_the_arguments_since_the_mark()
    {
        var pickle = new PickleBuilder().Mark().Int(1).Unicode("x");
        int at = pickle.Position;

        var result = Run(pickle.Inst("__main__", "MLP").Stop());

        var call = Assert.IsType<PyCall>(result.Root);
        Assert.Equal(CallKind.Instantiate, call.Kind);
        Assert.Equal("__main__.MLP", call.Global!.FullName);
        Assert.Equal(at, call.Global.Offset);
        Assert.Equal([1L, "x"], call.Args.Items);
        Assert.Equal("__main__.MLP", Assert.Single(result.Globals).FullName);
    }

    [Fact]
    public void Obj_takes_the_class_from_the_first_item_after_the_mark()
    {
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(1).Mark().Global("m", "C").BinInt1(1).BinInt1(2).Obj().Stop()));

        Assert.Equal(CallKind.Instantiate, call.Kind);
        Assert.Equal("m.C", call.Global!.FullName);
        Assert.Equal([1L, 2L], call.Args.Items);
    }

    [Fact]
    public void Obj_without_a_class_is_corrupt()
    {
        Corrupt(new PickleBuilder().Mark().Obj().Stop(), 1, "OBJ without a class");
    }

    [Fact]
    public void Build_records_each_state_on_the_object()
    {
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(2)
            .Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .EmptyDict().BinUnicode("_metadata").None().SetItem().Build()
            .BinInt1(2).Build()
            .Stop()));

        Assert.Equal(2, call.States.Count);
        Assert.Equal([new("_metadata", PyNone.Value)], Assert.IsType<PyDict>(call.States[0]).Items);
        Assert.Equal(2L, call.States[1]);
    }

    [Fact]
    public void Build_applies_to_instances_made_by_every_call_opcode()
    {
        var root = Root(new PickleBuilder().Proto(2).Mark()
            .Global("m", "A").EmptyTuple().Reduce().BinInt1(1).Build()
            .Global("m", "B").EmptyTuple().NewObj().BinInt1(2).Build()
            .Mark().Inst("m", "C").BinInt1(3).Build()
            .Mark().Global("m", "D").Obj().BinInt1(4).Build()
            .Tuple().Stop());

        var calls = Assert.IsType<PyTuple>(root).Items.Cast<PyCall>().ToList();
        Assert.Equal(["m.A", "m.B", "m.C", "m.D"], calls.Select(c => c.Global!.FullName));
        Assert.Equal([1L, 2L, 3L, 4L], calls.Select(c => Assert.Single(c.States)));
    }

    [Fact]
    public void SetItems_on_an_instance_are_recorded_as_its_items()
    {
        // OrderedDict() then SETITEMS: how torch.save writes every state_dict.
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(2)
            .Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .Mark().BinUnicode("a").BinInt1(1).BinUnicode("b").BinInt1(2).SetItems()
            .BinUnicode("c").BinInt1(3).SetItem()
            .Stop()));

        Assert.Equal([new("a", 1L), new("b", 2L), new("c", 3L)], call.SetItems);
    }

    [Fact]
    public void Appends_on_an_instance_are_recorded_as_its_items()
    {
        var call = Assert.IsType<PyCall>(Root(new PickleBuilder().Proto(2)
            .Global("m", "L").EmptyTuple().Reduce().BinInt1(1).Append().Mark().BinInt1(2).Appends().Stop()));

        Assert.Equal([1L, 2L], call.Appended);
    }

    // ------------------------------------------------------------------ persistent ids

    [Fact]
    public void BinPersId_wraps_the_id_and_lists_it()
    {
        var pickle = new PickleBuilder().Proto(2).Mark().BinUnicode("storage").Global("torch", "FloatStorage").BinUnicode("0").BinUnicode("cpu").BinInt1(6).Tuple();
        int at = pickle.Position;

        var result = Run(pickle.BinPersId().Stop());

        var pid = Assert.IsType<PyPersistentId>(result.Root);
        Assert.Same(pid, Assert.Single(result.PersistentIds));
        Assert.Equal(at, pid.Offset);
        var id = Assert.IsType<PyTuple>(pid.Id).Items;
        Assert.Equal("storage", id[0]);
        Assert.Equal("torch.FloatStorage", ((PyGlobal)id[1]).FullName);
        Assert.Equal(["0", "cpu", 6L], id[2..]);
    }

    [Fact]
    public void PersId_wraps_its_text_argument()
    {
        var result = Run(new PickleBuilder().PersId("storage 0").Stop());

        var pid = Assert.IsType<PyPersistentId>(result.Root);
        Assert.Equal("storage 0", pid.Id);
        Assert.Equal(0, pid.Offset);
        Assert.Same(pid, Assert.Single(result.PersistentIds));
    }

    [Fact]
    public void Each_persistent_id_opcode_makes_its_own_entry()
    {
        var result = Run(new PickleBuilder().Proto(2).BinUnicode("k").BinPut(0).BinPersId().BinGet(0).BinPersId().Tuple2().Stop());

        Assert.Equal(2, result.PersistentIds.Count);
        Assert.NotSame(result.PersistentIds[0], result.PersistentIds[1]);
    }

    /// <summary>
    /// torch.load makes a storage of every persistent id it accepts but a legacy module id (which gives the class): a
    /// storage is not callable and not a class, so CPython raises TypeError (REDUCE, OBJ) or UnpicklingError (NEWOBJ)
    /// there. Found by AFL: an OBJ on a storage whose result was popped read as data.
    /// </summary>
    [Theory]
    [InlineData("REDUCE", "not callable")]
    [InlineData("OBJ", "not callable")]
    [InlineData("NEWOBJ", "not a class")]
    public void Calling_a_storage_persistent_id_is_refused_where_CPython_raises(string opcode, string problem)
    {
        var pickle = new PickleBuilder().Proto(2);
        if (opcode == "OBJ")
        {
            pickle.Mark();
        }
        pickle.Mark().BinUnicode("storage").Global("torch", "FloatStorage").BinUnicode("0").BinUnicode("cpu").BinInt1(4).Tuple().BinPersId();
        int at = opcode == "OBJ" ? pickle.Position : pickle.EmptyTuple().Position;
        _ = opcode switch { "REDUCE" => pickle.Reduce(), "OBJ" => pickle.Obj(), _ => pickle.NewObj() };

        PickleAssert.Corrupt(pickle.Pop().BinInt1(1).Stop(), at, $"{opcode} on a persistent id, which torch.load makes a storage: {problem}");
    }

    [Fact]
    public void A_legacy_module_persistent_id_is_a_class_that_calls_may_use()
    {
        var result = Run(new PickleBuilder().Proto(2)
            .Mark().BinUnicode("module").Global("__main__", "Net").BinUnicode("net.py").BinUnicode("class Net: ...").Tuple().BinPersId()
            .EmptyTuple().NewObj().Stop());

        var call = Assert.IsType<PyCall>(result.Root);
        Assert.True(Assert.IsType<PyPersistentId>(call.Callable).NamesClass);
    }

    // ------------------------------------------------------------------ refused opcodes

    [Fact]
    public void Ext1_is_refused_as_unsafe()
    {
        var e = Fails<CheckpointUnsafeException>(new PickleBuilder().Proto(2).Ext1(1).Stop(), 2, "EXT1");

        Assert.Equal(["copyreg._extension_registry"], e.RefusedGlobals);
    }

    [Fact]
    public void Ext2_is_refused_as_unsafe()
    {
        var e = Fails<CheckpointUnsafeException>(new PickleBuilder().Proto(2).Ext2(0x1234).Stop(), 2, "EXT2");

        Assert.Equal(["copyreg._extension_registry"], e.RefusedGlobals);
    }

    [Fact]
    public void Ext4_is_refused_as_unsafe()
    {
        var e = Fails<CheckpointUnsafeException>(new PickleBuilder().Proto(2).Ext4(0x12345678).Stop(), 2, "EXT4");

        Assert.Equal(["copyreg._extension_registry"], e.RefusedGlobals);
    }

    [Fact]
    public void NextBuffer_is_unsupported()
    {
        Fails<CheckpointFormatException>(new PickleBuilder().Proto(5).NextBuffer().Stop(), 2, "out-of-band buffers");
    }

    [Fact]
    public void ReadOnlyBuffer_is_as_in_cpython()
    {
        // Found by AFL: CPython reads on after READONLY_BUFFER (a no-op on bytes), so refusing there hid later globals.
        Fails<CheckpointFormatException>(new PickleBuilder().Proto(5).ByteArray8([1]).ReadOnlyBuffer().Stop(), 12, "READONLY_BUFFER on a bytearray (a read-only memoryview");
        Assert.Equal([1, 2], Assert.IsType<PyBytes>(Root(new PickleBuilder().Proto(5).ShortBinBytes([1, 2]).ReadOnlyBuffer().Stop())).Data);
        Corrupt(new PickleBuilder().Proto(5).BinInt1(1).ReadOnlyBuffer().Stop(), 4, "READONLY_BUFFER on a int, which is not a buffer");
        var refused = Assert.Throws<CheckpointUnsafeException>(() => PickleMachine.Run(
            new PickleBuilder().Proto(5).ByteArray8([1]).ReadOnlyBuffer().Pop().Global("os", "system").Stop().ToArray(),
            Source, CheckpointLimits.Default, refused: g => g.FullName == "os.system"));
        Assert.Contains("os.system", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_defined_opcode_is_understood()
    {
        // Each opcode alone is incomplete, so it fails; but never as an unknown opcode.
        foreach (var op in Enum.GetValues<PickleOpcode>())
        {
            var e = Record.Exception(() => Run(new PickleBuilder().Op(op).ToArray()));
            Assert.IsAssignableFrom<CheckpointException>(e);
            Assert.DoesNotContain("unknown opcode", e.Message, StringComparison.Ordinal);
        }
    }

    // ------------------------------------------------------------------ what CPython writes

    // pickle.dumps({'a': [1, 2.5, 'x', None, True, (1, 2)], 'b': b'\x00\x01', 'big': 2**70}, protocol=N), CPython 3.
    private static readonly byte[] CPythonProtocol0 = Encoding.Latin1.GetBytes(
        "(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\naNaI01\na(I1\nI2\ntp4\nasVb\np5\nc_codecs\nencode\np6\n(V\\u0000\u0001\np7\nVlatin1\np8\ntp9\nRp10\nsVbig\np11\nL1180591620717411303424L\ns.");

    private static readonly byte[] CPythonProtocol2 =
    [
        0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5D, 0x71, 0x02, 0x28, 0x4B, 0x01,
        0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x78, 0x71, 0x03, 0x4E, 0x88, 0x4B,
        0x01, 0x4B, 0x02, 0x86, 0x71, 0x04, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x62, 0x71, 0x05, 0x63, 0x5F, 0x63, 0x6F, 0x64,
        0x65, 0x63, 0x73, 0x0A, 0x65, 0x6E, 0x63, 0x6F, 0x64, 0x65, 0x0A, 0x71, 0x06, 0x58, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x71, 0x07, 0x58, 0x06, 0x00, 0x00, 0x00, 0x6C, 0x61, 0x74, 0x69, 0x6E, 0x31, 0x71, 0x08, 0x86, 0x71, 0x09, 0x52, 0x71,
        0x0A, 0x58, 0x03, 0x00, 0x00, 0x00, 0x62, 0x69, 0x67, 0x71, 0x0B, 0x8A, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x40, 0x75, 0x2E,
    ];

    private static readonly byte[] CPythonProtocol4 =
    [
        0x80, 0x04, 0x95, 0x3E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7D, 0x94, 0x28, 0x8C, 0x01, 0x61, 0x94, 0x5D, 0x94,
        0x28, 0x4B, 0x01, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8C, 0x01, 0x78, 0x94, 0x4E, 0x88, 0x4B, 0x01,
        0x4B, 0x02, 0x86, 0x94, 0x65, 0x8C, 0x01, 0x62, 0x94, 0x43, 0x02, 0x00, 0x01, 0x94, 0x8C, 0x03, 0x62, 0x69, 0x67, 0x94,
        0x8A, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x75, 0x2E,
    ];

    // Protocol 5 writes the same opcodes as protocol 4 for this object; only the PROTO byte differs.
    private static readonly byte[] CPythonProtocol5 = [0x80, 0x05, .. CPythonProtocol4[2..]];

    public static TheoryData<int, byte[]> CPythonPickles() => new()
    {
        { 0, CPythonProtocol0 },
        { 2, CPythonProtocol2 },
        { 4, CPythonProtocol4 },
        { 5, CPythonProtocol5 },
    };

    [Theory]
    [MemberData(nameof(CPythonPickles))]
    public void CPython_pickles_decode_to_the_object_model(int protocol, byte[] data)
    {
        var result = Run(data);

        Assert.Equal(protocol, result.Protocol);
        Assert.Equal(data.Length, result.EndPosition);
        var dict = Assert.IsType<PyDict>(result.Root);
        Assert.Equal(["a", "b", "big"], dict.Items.Select(p => p.Key));

        var a = Assert.IsType<PyList>(dict.Items[0].Value).Items;
        Assert.Equal(6, a.Count);
        Assert.Equal(1L, Assert.IsType<long>(a[0]));
        Assert.Equal(2.5, Assert.IsType<double>(a[1]));
        Assert.Equal("x", a[2]);
        Assert.Same(PyNone.Value, a[3]);
        Assert.True(Assert.IsType<bool>(a[4]));
        Assert.Equal([1L, 2L], Assert.IsType<PyTuple>(a[5]).Items);

        // Protocols 0-2 have no bytes type: CPython writes _codecs.encode('\x00\x01', 'latin1').
        var b = dict.Items[1].Value;
        if (protocol < 3)
        {
            var call = Assert.IsType<PyCall>(b);
            Assert.Equal("_codecs.encode", call.Global!.FullName);
            Assert.Equal(["\0\u0001", "latin1"], call.Args.Items);
            Assert.Equal(["_codecs.encode"], result.Globals.Select(g => g.FullName));
        }
        else
        {
            Assert.Equal([0, 1], Assert.IsType<PyBytes>(b).Data);
            Assert.Empty(result.Globals);
        }

        Assert.Equal(BigInteger.Pow(2, 70), Assert.IsType<BigInteger>(dict.Items[2].Value));
        Assert.Empty(result.PersistentIds);
    }
}
