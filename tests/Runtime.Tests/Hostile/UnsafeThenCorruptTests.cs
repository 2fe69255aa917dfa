using StateDict.Tests.Pickle;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// A global outside the allow-list followed by damage: Python's unpickler imports (and may call) the global before it
/// reaches the damage, so the file is refused as unsafe, naming the global (exit 3), not merely as corrupt (exit 1).
/// Every kind of damage, in every container; an allowed or tolerated global before the same damage stays corrupt.
/// </summary>
public class UnsafeThenCorruptTests
{
    /// <summary>What follows the global: each makes the pickle unreadable in a different way.</summary>
    private static readonly Dictionary<string, Func<PickleBuilder, PickleBuilder>> Damages = new()
    {
        ["truncation"] = p => p,
        ["unknown opcode"] = p => p.Raw(0xff).Stop(),
        ["memo read before set"] = p => p.BinGet(7).Stop(),
        ["stack underflow"] = p => p.Tuple3().Stop(),
        ["unsupported opcode"] = p => p.NextBuffer().Stop(),
        ["frame desync"] = p => p.Frame(3).Op(StateDict.Pickle.PickleOpcode.BinInt).Raw(1, 2, 0, 0).Stop(),
        ["cut string"] = p => p.LengthHeader(StateDict.Pickle.PickleOpcode.BinUnicode, 1000).Ascii("abc"),
    };

    /// <summary>Each container around the damaged pickle; a truncated pickle ends the file (nothing of the container follows it).</summary>
    private static readonly Dictionary<string, Func<byte[], bool, byte[]>> Containers = new()
    {
        ["zip"] = (pickle, _) => TorchZip.Build(pickle),
        ["legacy main pickle"] = (pickle, truncated) => truncated
            ? [.. LegacyFiles.Build(LegacyFiles.Magic(), [])[..^LegacyFiles.KeyListAndStorageLength(0)], .. pickle]
            : LegacyFiles.Build(LegacyFiles.Magic(), pickle),
        ["legacy magic pickle"] = (pickle, truncated) => truncated ? pickle : LegacyFiles.Build(pickle, LegacyFiles.StateDict(0)),
        ["plain pickle"] = (pickle, _) => pickle,
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var container in Containers.Keys)
        {
            foreach (var damage in Damages.Keys)
            {
                data.Add(container, damage);
            }
        }
        return data;
    }

    private static byte[] File(string container, string damage, string module, string name) =>
        Containers[container](Damages[damage](new PickleBuilder().Proto(4).Global(module, name)).ToArray(), damage == "truncation");

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_forbidden_global_before_the_damage_is_unsafe(string container, string damage)
    {
        var e = Read.Fails<CheckpointUnsafeException>(File(container, damage, "posix", "system"), "posix.system (byte 2)");

        Assert.Equal(["posix.system"], e.RefusedGlobals);
    }

    [Fact]
    public void The_message_names_the_global_and_then_the_damage()
    {
        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(new PickleBuilder().Proto(2).Global("posix", "system").BinGet(7).Stop().ToArray()),
            "archive/data.pkl references a global outside the allow-list: posix.system (byte 2), and is unreadable after it");

        Assert.Contains("memo slot 7 is read before it is set", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_allowed_global_before_the_same_damage_is_only_corrupt(string container, string damage)
    {
        using var file = new TempFile(File(container, damage, "collections", "OrderedDict"));

        var e = Assert.ThrowsAny<CheckpointException>(() => Read.All(file.Path));

        Assert.IsNotType<CheckpointUnsafeException>(e);
    }

    [Fact]
    public void A_TorchScript_class_before_damage_in_a_TorchScript_archive_is_only_corrupt()
    {
        var pickle = new PickleBuilder().Proto(2).Global("__torch__", "Net").BinGet(3).Stop().ToArray();
        var zip = TorchZip.Build(pickle, extraEntries: new Dictionary<string, byte[]> { ["archive/constants.pkl"] = new PickleBuilder().Proto(2).EmptyTuple().Stop().ToArray() });

        Read.Fails<CheckpointCorruptException>(zip, "memo slot 3 is read before it is set");
    }

    [Fact]
    public void The_same_global_in_a_TorchScript_shaped_torch_save_archive_is_unsafe()
    {
        var pickle = new PickleBuilder().Proto(2).Global("__torch__", "Net").BinGet(3).Stop().ToArray();

        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(pickle), "__torch__.Net");

        Assert.Equal(["__torch__.Net"], e.RefusedGlobals);
    }
}
