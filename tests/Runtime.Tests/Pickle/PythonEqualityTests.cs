using System.Numerics;
using StateDict.Pickle;
using Xunit;
using static StateDict.Tests.Pickle.PickleAssert;

namespace StateDict.Tests.Pickle;

/// <summary>
/// Dict keys and set items collapse as in CPython (found by AFL in the differential lane: a frozenset of repeated
/// False read with nine items where Python keeps one). The expected answers are CPython 3.11's.
/// </summary>
public class PythonEqualityTests
{
    [Fact]
    public void A_frozenset_keeps_one_of_each_equal_item_the_first()
    {
        // frozenset([False, 0, 0.0, False]) == frozenset({False})
        var set = Assert.IsType<PySet>(Root(new PickleBuilder().Proto(4).Mark().NewFalse().BinInt1(0).BinFloat(0.0).NewFalse().FrozenSet().Stop()));

        Assert.Equal([false], set.Items);
    }

    [Fact]
    public void Equal_dict_keys_keep_the_first_key_and_the_last_value()
    {
        // {1: 'a', True: 'b', 1.0: 'c'} == {1: 'c'}
        var dict = Assert.IsType<PyDict>(Root(new PickleBuilder().Proto(2).EmptyDict().Mark()
            .BinInt1(1).BinUnicode("a").NewTrue().BinUnicode("b").BinFloat(1.0).BinUnicode("c").SetItems().Stop()));

        var entry = Assert.Single(dict.Items);
        Assert.Equal(1L, entry.Key);
        Assert.Equal("c", entry.Value);
    }

    [Fact]
    public void An_int_equals_a_float_only_when_the_float_is_exactly_it()
    {
        // {2**53 + 1: 'i', float(2**53): 'f', 0.5: 'h'} keeps three keys
        var dict = Assert.IsType<PyDict>(Root(new PickleBuilder().Proto(2).EmptyDict().Mark()
            .Long1((BigInteger.One << 53) + 1).BinUnicode("i").BinFloat(9007199254740992.0).BinUnicode("f")
            .BinFloat(0.5).BinUnicode("h").SetItems().Stop()));

        Assert.Equal(3, dict.Items.Count);
    }

    [Fact]
    public void NaN_is_one_key_only_when_it_is_the_same_object()
    {
        // Two float('nan') objects are two keys; one NaN used twice (DUP, memo) is one key.
        var two = Assert.IsType<PyDict>(Root(new PickleBuilder().Proto(2).EmptyDict().Mark()
            .BinFloat(double.NaN).BinInt1(1).BinFloat(double.NaN).BinInt1(2).SetItems().Stop()));
        var one = Assert.IsType<PyDict>(Root(new PickleBuilder().Proto(2).EmptyDict().Mark()
            .BinFloat(double.NaN).BinPut(0).BinInt1(1).BinGet(0).BinInt1(2).SetItems().Stop()));

        Assert.Equal(2, two.Items.Count);
        Assert.Equal(2L, Assert.Single(one.Items).Value);
    }

    [Fact]
    public void Equal_tuples_strs_and_bytes_are_one_key()
    {
        var dict = Assert.IsType<PyDict>(Root(new PickleBuilder().Proto(3).EmptyDict().Mark()
            .BinInt1(1).BinUnicode("a").Tuple2().BinInt1(1)
            .BinInt1(1).BinUnicode("a").Tuple2().BinInt1(2)
            .ShortBinBytes([1, 2]).BinInt1(3).ShortBinBytes([1, 2]).BinInt1(4)
            .BinUnicode("k").BinInt1(5).BinUnicode("k").BinInt1(6).SetItems().Stop()));

        Assert.Equal([2L, 4L, 6L], dict.Items.Select(p => p.Value));
    }

    [Theory]
    [InlineData("frozenset")]
    [InlineData("tuple")]
    public void Equal_keys_nested_past_the_recursion_limit_are_refused(string kind)
    {
        // Two equal but distinct chains frozenset({frozenset({... 1 ...})}) (or ((... 1,),)), 1,500 deep, as keys of
        // one dict: CPython's comparison raises RecursionError; the VM refuses rather than recurse without bound.
        var pickle = new PickleBuilder().Proto(4).EmptyDict().Mark();
        for (int chain = 0; chain < 2; chain++)
        {
            if (kind == "frozenset")
            {
                pickle.Repeat(1_500, b => b.Mark()).BinInt1(1).Repeat(1_500, b => b.FrozenSet());
            }
            else
            {
                pickle.BinInt1(1).Repeat(1_500, b => b.Tuple1());
            }
            pickle.BinInt1((byte)chain);
        }

        int at = pickle.Position;
        Corrupt(pickle.SetItems().Stop(), at, "values nested too deeply to compare");
    }
}
