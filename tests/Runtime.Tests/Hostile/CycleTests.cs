using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Self-referencing data: torch.load reads it (a list appended to itself is legal Python), but it has no flattened
/// keys, so it is refused as a format StateDict cannot list, with a message that says "cycle" and names both ends.
/// The pickles are the data.pkl bytes torch.save (1.13) wrote for each object; torch.load returned the object.
/// </summary>
public class CycleTests
{
    public static TheoryData<string, string, string> Cycles() => new()
    {
        // l = []; l.append(l); torch.save({'a': l}) -> {'a': [[...]]}
        { "80027d710058010000006171015d7102680261732e", "the list at 'a.0' contains itself: a cycle back to 'a'", "list" },
        // d = {}; d['self'] = d; torch.save({'b': d}) -> {'b': {'self': {...}}}
        { "80027d71005801000000627101" + "7d7102580400000073656c667103680273732e", "the dict at 'b.self' contains itself: a cycle back to 'b'", "dict" },
        // od = OrderedDict(); od['me'] = od; torch.save({'c': od}) -> {'c': OrderedDict([('me', ...)])}
        { "80027d710058010000006371016363" + "6f6c6c656374696f6e730a4f726465726564446963740a7102295271035802000000" + "6d657104680373732e",
          "the collections.OrderedDict(...) at 'c.me' contains itself: a cycle back to 'c'", "OrderedDict" },
    };

    [Theory]
    [MemberData(nameof(Cycles))]
    public void A_structure_that_contains_itself_is_refused_as_a_cycle(string pickleHex, string message, string kind)
    {
        var e = Read.Fails<CheckpointFormatException>(TorchZip.Build(Convert.FromHexString(pickleHex)), message);

        Assert.Contains(kind, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("exceed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_top_level_dict_holding_itself_is_named_as_the_top_level()
    {
        // d = {}; d['x'] = d; pickle.dumps(d, 2)
        Read.Fails<CheckpointFormatException>(TorchZip.Build(Convert.FromHexString("80027d710058010000007871016800732e")),
            "the dict at 'x' contains itself: a cycle back to the top level");
    }

    [Fact]
    public void The_same_list_under_two_keys_is_not_a_cycle()
    {
        // s = [7]; torch.save({'a': s, 'b': s}): shared, not cyclic; both keys list its item.
        var pickle = Convert.FromHexString("80027d7100285801000000617101" + "5d71024b0761" + "5801000000627103680275" + "2e");
        using var file = new TempFile(TorchZip.Build(pickle));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(["a.0", "b.0"], checkpoint.Values.Keys);
    }
}
