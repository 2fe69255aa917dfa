using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using StateDict.Tests.Hostile;
using StateDict.Tests.Pickle;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Formats;

/// <summary>
/// TorchScript archives (<c>torch.jit.save</c>), plain pickles (<c>pickle.dump(state_dict)</c>, storages embedded by
/// <c>torch.storage._load_from_bytes</c>) and whole pickled models under <see cref="LoadOptions.AllowModulePickles"/>:
/// the fixtures PyTorch wrote read exactly, hand-built files cover the walk's rules, and hostile variants (payloads
/// nested too deep or lying about their size, module cycles, TorchScript globals outside TorchScript, dangerous
/// globals under the opt-in) fail with typed exceptions, running nothing.
/// </summary>
public class PickledFormatTests
{
    private static readonly LoadOptions OptIn = new() { AllowModulePickles = true };

    // ------------------------------------------------------------------ the fixtures

    [Fact]
    public void The_TorchScript_fixture_reads_its_state_dict_keys_and_skips_everything_else()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("scripted_mlp.pt"));

        Assert.Equal(CheckpointFormat.TorchScript, checkpoint.Format);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], checkpoint.Tensors.Keys);
        Assert.Empty(checkpoint.Values); // training, _is_full_backward_hook: attributes, not state
    }

    [Fact]
    public void The_plain_pickle_fixture_reads_its_embedded_storages()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("state_dict.pkl"));

        Assert.Equal(CheckpointFormat.Pickle, checkpoint.Format);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], checkpoint.Tensors.Keys);
        Assert.Equal(4, checkpoint.Tensors.Values.Select(t => t.StorageKey).Distinct().Count());
    }

    [Theory]
    [InlineData("model_full.pth", CheckpointFormat.Zip)]
    [InlineData("model.pkl", CheckpointFormat.Pickle)]
    public void A_whole_pickled_model_reads_under_the_opt_in_exactly_as_PyTorch_recorded_it(string name, CheckpointFormat format)
    {
        var expected = Fixtures.ExpectedFor(name);
        Assert.True(expected.MustReject);

        foreach (var memory in Enum.GetValues<TensorMemory>())
        {
            using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), OptIn with { Memory = memory });

            Assert.Equal(format, checkpoint.Format);
            Assert.Empty(checkpoint.Values); // in_features, training, hooks: attributes, not state_dict() entries
            // Pickled as nn.Parameter (state_dict() hands out detached tensors, hence false in expected.json).
            CheckpointAssert.TensorsMatch(expected, checkpoint, isParameter: true);
        }
    }

    [Fact]
    public void Every_flavour_of_the_trained_MLP_holds_the_same_bytes()
    {
        var reference = Read.All(Fixtures.PathOf("parameters.pth"));

        foreach (var (name, options) in new[] { ("scripted_mlp.pt", null), ("state_dict.pkl", null), ("model_full.pth", OptIn), ("model.pkl", OptIn) })
        {
            var read = Read.All(Fixtures.PathOf(name), options);
            Assert.Equal(reference.Keys, read.Keys);
            Assert.All(reference, r => Assert.Equal(r.Value, read[r.Key]));
        }
    }

    [Theory]
    [InlineData("model_full.pth")]
    [InlineData("model.pkl")]
    public void Refusing_a_whole_pickled_model_names_the_opt_in(string name)
    {
        var e = Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(Fixtures.PathOf(name)));

        Assert.Contains("__main__.MLP", e.RefusedGlobals);
        Assert.Contains("LoadOptions.AllowModulePickles", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> DangerousCatalogue() =>
    [
        .. System.IO.Directory.GetFiles(Fixtures.PathOf("malicious"), "*.expected.json")
            .Select(p => "malicious/" + Path.GetFileName(p)[..^".expected.json".Length])
            .Where(n => !n.Contains("whole_module", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal),
        "malicious_os_system.pth",
    ];

    /// <summary>The opt-in accepts unknown classes only: every code-running, file or network global is still refused.</summary>
    [Theory]
    [MemberData(nameof(DangerousCatalogue))]
    public void The_opt_in_still_refuses_every_dangerous_global_of_the_catalogue(string name)
    {
        var expected = Fixtures.ExpectedFor(name);

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(Fixtures.PathOf(name), OptIn));

        Assert.Contains(expected.ForbiddenGlobal, e.RefusedGlobals);
        Assert.False(File.Exists("/tmp/statedict_pwned"));
    }

    [Theory]
    [InlineData("malicious/whole_module_zip.pth")]
    [InlineData("malicious/whole_module_legacy.pth")]
    [InlineData("malicious/whole_module.pkl")]
    public void The_opt_in_reads_a_pickled_nn_Linear_inside_a_state_dict(string name)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), OptIn);

        Assert.Contains("weight", checkpoint.Tensors.Keys);
        Assert.Contains("payload.weight", checkpoint.Tensors.Keys);
        Assert.True(checkpoint.Tensors["payload.weight"].IsParameter);
    }

    // ------------------------------------------------------------------ TorchScript archives

    private static readonly Dictionary<string, byte[]> TwoStorages = new()
    {
        ["0"] = TorchZip.Floats(1, 2, 3, 4),
        ["1"] = TorchZip.Floats(5, 6),
    };

    private static byte[] ScriptArchive(byte[] dataPkl, IReadOnlyDictionary<string, byte[]>? storages = null) =>
        TorchZip.Build(dataPkl, storages ?? TwoStorages,
            extraEntries: new Dictionary<string, byte[]> { ["archive/constants.pkl"] = new PickleBuilder().Proto(2).EmptyTuple().Stop().ToArray() });

    /// <summary>
    /// <c>__torch__.Net</c> with a tensor, TorchScript bookkeeping, a flag, an int list (<c>build_intlist</c>) and a
    /// <c>__torch__...Linear</c> submodule with its own tensor and flag.
    /// </summary>
    private static byte[] ScriptModule() => new PickleBuilder().Proto(2)
        .Global("__torch__", "Net").EmptyTuple().NewObj().EmptyDict().Mark()
            .BinUnicode("training").NewTrue()
            .BinUnicode("__parameters__").EmptyList().BinUnicode("weight").Append()
            .BinUnicode("__cached__").Tensor("FloatStorage", "0", 4, 0, [2], [1])
            .BinUnicode("weight").Tensor("FloatStorage", "0", 4, 0, [4], [1])
            .BinUnicode("dims").Global("torch.jit._pickle", "build_intlist").EmptyList().BinInt1(1).Append().Tuple1().Reduce()
            .BinUnicode("sub").Global("__torch__.torch.nn.modules.linear", "Linear").EmptyTuple().NewObj().EmptyDict().Mark()
                .BinUnicode("training").NewFalse()
                .BinUnicode("bias").Tensor("FloatStorage", "1", 2, 0, [2], [1])
                .SetItems().Build()
        .SetItems().Build().Stop().ToArray();

    [Fact]
    public void A_TorchScript_archive_lists_tensor_attributes_of_the_module_tree_and_skips_the_rest()
    {
        using var file = new TempFile(ScriptArchive(ScriptModule()), ".pt");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.TorchScript, checkpoint.Format);
        Assert.Equal(["weight", "sub.bias"], checkpoint.Tensors.Keys);
        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("weight").Span.ToArray());
        Assert.Equal([5f, 6], checkpoint.Read<float>("sub.bias").Span.ToArray());
        Assert.Empty(checkpoint.Values);
    }

    [Fact]
    public void A_TorchScript_archive_whose_data_pkl_is_not_a_module_is_refused()
    {
        var pickle = TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1]));

        Read.Fails<CheckpointFormatException>(ScriptArchive(pickle), "a TorchScript archive holds a __torch__ module object, but this one holds a collections.OrderedDict(...)");
    }

    [Fact]
    public void A_TorchScript_module_cycle_is_refused()
    {
        // root.child = Child(); root.child.parent = root
        var pickle = new PickleBuilder().Proto(2)
            .Global("__torch__", "Net").EmptyTuple().NewObj().BinPut(0).EmptyDict().Mark()
                .BinUnicode("weight").Tensor("FloatStorage", "0", 4, 0, [4], [1])
                .BinUnicode("child").Global("__torch__", "Child").EmptyTuple().NewObj().EmptyDict()
                    .BinUnicode("parent").BinGet(0).SetItem().Build()
            .SetItems().Build().Stop().ToArray();

        var e = Read.Fails<CheckpointCorruptException>(ScriptArchive(pickle), "contains itself (a module cycle)");

        Assert.Contains("child.parent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_TorchScript_module_containing_itself_directly_is_refused()
    {
        var pickle = new PickleBuilder().Proto(2)
            .Global("__torch__", "Net").EmptyTuple().NewObj().BinPut(0).EmptyDict()
                .BinUnicode("me").BinGet(0).SetItem()
            .Build().Stop().ToArray();

        Read.Fails<CheckpointCorruptException>(ScriptArchive(pickle), "__torch__.Net object at 'me' contains itself");
    }

    [Fact]
    public void A_TorchScript_module_shared_by_two_attributes_is_listed_under_both_like_state_dict()
    {
        var pickle = new PickleBuilder().Proto(2)
            .Global("__torch__", "Net").EmptyTuple().NewObj().EmptyDict().Mark()
                .BinUnicode("a").Global("__torch__", "Sub").EmptyTuple().NewObj().EmptyDict()
                    .BinUnicode("w").Tensor("FloatStorage", "0", 4, 0, [4], [1]).SetItem().Build().BinPut(1)
                .BinUnicode("b").BinGet(1)
            .SetItems().Build().Stop().ToArray();
        using var file = new TempFile(ScriptArchive(pickle), ".pt");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(["a.w", "b.w"], checkpoint.Tensors.Keys);
        Assert.Equal(checkpoint.Tensors["a.w"].StorageKey, checkpoint.Tensors["b.w"].StorageKey);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TorchScript_globals_in_a_plain_torch_save_file_are_refused_even_under_the_opt_in(bool optIn)
    {
        // The same module tree, without constants.pkl: a torch.save zip, where __torch__ classes are not data.
        var zip = TorchZip.Build(ScriptModule(), TwoStorages);
        using var file = new TempFile(zip);

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(file.Path, optIn ? OptIn : null));

        Assert.Equal(["__torch__.Net", "torch.jit._pickle.build_intlist", "__torch__.torch.nn.modules.linear.Linear"], e.RefusedGlobals);
    }

    // ------------------------------------------------------------------ plain pickles

    /// <summary>What <c>torch.save(storage, _use_new_zipfile_serialization=False)</c> writes for one storage.</summary>
    private static byte[] LegacyStorage(string storageClass, string key, long numel, byte[] data, long? recordedCount = null)
    {
        var bytes = new List<byte>();
        bytes.AddRange(new PickleBuilder().Proto(2).Long1(BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture)).Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).BinInt2(1001).Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).EmptyDict().BinUnicode("little_endian").NewTrue().SetItem().Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).StoragePid(storageClass, key, numel).Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).EmptyList().BinUnicode(key).Append().Stop().ToArray());
        var count = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, recordedCount ?? numel);
        bytes.AddRange(count);
        bytes.AddRange(data);
        return [.. bytes];
    }

    /// <summary>A legacy payload whose object is another payload (<c>torch.save(_load_from_bytes(b))</c>): no storages of its own.</summary>
    private static byte[] NestedPayload(byte[] inner)
    {
        var bytes = new List<byte>();
        bytes.AddRange(new PickleBuilder().Proto(2).Long1(BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture)).Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).BinInt2(1001).Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).EmptyDict().Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).Global("torch.storage", "_load_from_bytes").BinBytes(inner).Tuple1().Reduce().Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).EmptyList().Stop().ToArray());
        return [.. bytes];
    }

    /// <summary><c>_rebuild_tensor_v2(_load_from_bytes(payload), 0, size, stride, False, OrderedDict())</c>, as pickle.dump writes a tensor.</summary>
    private static PickleBuilder EmbeddedTensor(PickleBuilder p, byte[] payload, long[] size, long[] stride, bool latin1 = false)
    {
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark().Global("torch.storage", "_load_from_bytes");
        if (latin1)
        {
            // Protocol 2 pickles bytes as _codecs.encode(str, 'latin1').
            p.Global("_codecs", "encode").BinUnicode(System.Text.Encoding.Latin1.GetString(payload)).BinUnicode("latin1").Tuple2().Reduce();
        }
        else
        {
            p.BinBytes(payload);
        }
        p.Tuple1().Reduce().BinInt1(0);
        p.Mark();
        foreach (long d in size)
        {
            p.Int64(d);
        }
        p.Tuple().Mark();
        foreach (long s in stride)
        {
            p.Int64(s);
        }
        return p.Tuple().NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
    }

    private static byte[] PlainStateDict(byte[] payload, bool latin1 = false) =>
        EmbeddedTensor(new PickleBuilder().Proto(latin1 ? 2 : 4).EmptyDict().BinUnicode("w"), payload, [2, 2], [2, 1], latin1)
            .SetItem().Stop().ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_plain_pickle_reads_storages_embedded_as_bytes_or_as_latin1_text(bool latin1)
    {
        var payload = LegacyStorage("FloatStorage", "140234", 4, TorchZip.Floats(1, 2, 3, 4));

        foreach (var memory in Enum.GetValues<TensorMemory>())
        {
            using var file = new TempFile(PlainStateDict(payload, latin1), ".pkl");
            using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Memory = memory });

            Assert.Equal(CheckpointFormat.Pickle, checkpoint.Format);
            Assert.Equal(new long[] { 2, 2 }, checkpoint.Tensors["w"].Shape);
            Assert.Equal("140234", checkpoint.Tensors["w"].StorageKey);
            Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("w").Span.ToArray());
        }
    }

    [Fact]
    public void A_memoized_payload_is_one_storage_and_payloads_reusing_a_key_stay_apart()
    {
        var first = LegacyStorage("FloatStorage", "7", 4, TorchZip.Floats(1, 2, 3, 4));
        var second = LegacyStorage("FloatStorage", "7", 4, TorchZip.Floats(9, 9, 9, 9));
        var p = new PickleBuilder().Proto(4).EmptyDict().Mark().BinUnicode("a");
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark().Global("torch.storage", "_load_from_bytes").BinBytes(first).Tuple1().Reduce().BinPut(9)
            .BinInt1(0).BinInt1(4).Tuple1().BinInt1(1).Tuple1().NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        p.BinUnicode("tail");
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark().BinGet(9)
            .BinInt1(2).BinInt1(2).Tuple1().BinInt1(1).Tuple1().NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        p.BinUnicode("b");
        EmbeddedTensor(p, second, [4], [1]);
        using var file = new TempFile(p.SetItems().Stop().ToArray(), ".pkl");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(checkpoint.Tensors["a"].StorageKey, checkpoint.Tensors["tail"].StorageKey);
        Assert.NotEqual(checkpoint.Tensors["a"].StorageKey, checkpoint.Tensors["b"].StorageKey);
        Assert.Equal([3f, 4], checkpoint.Read<float>("tail").Span.ToArray());
        Assert.Equal([9f, 9, 9, 9], checkpoint.Read<float>("b").Span.ToArray());
    }

    [Fact]
    public void Bytes_shared_by_many_calls_are_parsed_once_as_one_storage()
    {
        // One payload made slow to parse (a 60 KB sys_info pickle), passed by the memo to 20,000 _load_from_bytes calls.
        var sysInfo = new PickleBuilder().Proto(2).EmptyList().Repeat(20_000, p => p.BinInt1(7).Append()).Stop().ToArray();
        var payload = LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4));
        int sysInfoAt = payload.AsSpan().IndexOf(new PickleBuilder().Proto(2).EmptyDict().BinUnicode("little_endian").NewTrue().SetItem().Stop().ToArray());
        payload = [.. payload[..sysInfoAt], .. sysInfo, .. payload[(sysInfoAt + 24)..]];
        var p = new PickleBuilder().Proto(4).BinBytes(payload).BinPut(0).Pop().EmptyDict().Mark();
        for (int i = 0; i < 20_000; i++)
        {
            p.BinUnicode($"t{i}").Global("torch._utils", "_rebuild_tensor_v2").Mark().Global("torch.storage", "_load_from_bytes").BinGet(0).Tuple1().Reduce()
                .BinInt1(0).BinInt1(4).Tuple1().BinInt1(1).Tuple1().NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        }
        using var file = new TempFile(p.SetItems().Stop().ToArray(), ".pkl");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(20_000, checkpoint.Tensors.Count);
        Assert.Single(checkpoint.Tensors.Values.Select(t => t.StorageKey).Distinct());
        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("t19999").Span.ToArray());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_payload_holding_another_payload_is_followed()
    {
        var payload = NestedPayload(NestedPayload(LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4))));
        using var file = new TempFile(PlainStateDict(payload), ".pkl");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("w").Span.ToArray());
    }

    [Fact]
    public void A_payload_nested_too_deep_is_refused()
    {
        var payload = LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4));
        for (int i = 0; i < Containers.EmbeddedPayload.MaxDepth; i++)
        {
            payload = NestedPayload(payload);
        }

        Read.Fails<CheckpointCorruptException>(PlainStateDict(payload), $"torch.save payloads nested more than {Containers.EmbeddedPayload.MaxDepth} deep");
    }

    [Fact]
    public void A_payload_claiming_more_bytes_than_it_holds_is_corrupt()
    {
        var payload = LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2));

        Read.Fails<CheckpointCorruptException>(PlainStateDict(payload), "storage '1' needs 16 bytes but the payload has 8 after its header (truncated?)");
    }

    [Fact]
    public void A_payload_whose_count_disagrees_with_its_reference_is_corrupt()
    {
        var payload = LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4, 5, 6, 7, 8), recordedCount: 8);

        Read.Fails<CheckpointCorruptException>(PlainStateDict(payload), "storage '1' records 8 elements but its reference declares 4");
    }

    [Fact]
    public void A_payload_with_a_huge_count_is_corrupt_without_allocating()
    {
        var payload = LegacyStorage("FloatStorage", "1", 1L << 40, TorchZip.Floats(1));

        Read.Fails<CheckpointCorruptException>(PlainStateDict(payload), $"storage '1' needs {4L << 40} bytes but the payload has 4");
    }

    [Fact]
    public void Every_cut_of_a_payload_is_refused_with_a_checkpoint_exception()
    {
        var payload = LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4));
        using var file = new TempFile([], ".pkl");

        for (int length = payload.Length - 1; length >= 0; length--)
        {
            file.Write(PlainStateDict(payload[..length]));
            var e = Assert.ThrowsAny<CheckpointException>(() => Read.All(file.Path));
            Assert.False(e is CheckpointUnsafeException, $"cut to {length}: {e.Message}");
        }
    }

    [Fact]
    public void A_zip_payload_is_refused_clearly()
    {
        var payload = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1, 2, 3, 4) });

        Read.Fails<CheckpointFormatException>(PlainStateDict(payload), "the embedded storage is a torch.save zip archive");
    }

    [Fact]
    public void A_payload_naming_a_dangerous_global_is_refused()
    {
        var bytes = new List<byte>(LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4)));
        // Replace the sys_info pickle's content: a payload calling os.system where sys_info should be.
        var evil = new List<byte>();
        evil.AddRange(new PickleBuilder().Proto(2).Long1(BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture)).Stop().ToArray());
        evil.AddRange(new PickleBuilder().Proto(2).BinInt2(1001).Stop().ToArray());
        evil.AddRange(new PickleBuilder().Proto(2).Global("posix", "system").BinUnicode("touch /tmp/statedict_pwned").Tuple1().Reduce().Stop().ToArray());
        evil.AddRange(new PickleBuilder().Proto(2).StoragePid("FloatStorage", "1", 4).Stop().ToArray());
        evil.AddRange(new PickleBuilder().Proto(2).EmptyList().BinUnicode("1").Append().Stop().ToArray());
        evil.AddRange(bytes[^24..]);

        var e = Read.Fails<CheckpointUnsafeException>(PlainStateDict([.. evil]), "posix.system");

        Assert.Contains("posix.system", e.RefusedGlobals);
    }

    [Fact]
    public void Load_from_bytes_outside_a_plain_pickle_is_still_refused()
    {
        var payload = LegacyStorage("FloatStorage", "1", 4, TorchZip.Floats(1, 2, 3, 4));

        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(PlainStateDict(payload)), "torch.storage._load_from_bytes");

        Assert.Equal(["torch.storage._load_from_bytes"], e.RefusedGlobals);
    }

    [Fact]
    public void A_persistent_id_in_a_plain_pickle_is_refused()
    {
        var pickle = TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1]));

        Read.Fails<CheckpointFormatException>(pickle, "which a plain pickle cannot resolve");
    }

    // ------------------------------------------------------------------ pickled modules (opt-in)

    /// <summary>
    /// A pickled <c>__main__.Net</c>: a parameter, a None bias, a persistent and a non-persistent buffer, a child
    /// <c>Linear</c> and a None child, plus attributes that are not state.
    /// </summary>
    private static byte[] ModulePickle() => new PickleBuilder().Proto(2)
        .Global("__main__", "Net").EmptyTuple().NewObj().EmptyDict().Mark()
            .BinUnicode("training").NewTrue()
            .BinUnicode("_parameters").Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark()
                .BinUnicode("weight").Global("torch._utils", "_rebuild_parameter")
                    .Mark().Tensor("FloatStorage", "0", 4, 0, [4], [1]).NewTrue().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce()
                .BinUnicode("bias").None()
            .SetItems()
            .BinUnicode("_buffers").Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark()
                .BinUnicode("running").Tensor("FloatStorage", "1", 2, 0, [2], [1])
                .BinUnicode("scratch").Tensor("FloatStorage", "1", 2, 1, [1], [1])
            .SetItems()
            .BinUnicode("_non_persistent_buffers_set").Global("__builtin__", "set").EmptyList().BinUnicode("scratch").Append().Tuple1().Reduce()
            .BinUnicode("_forward_hooks").Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .BinUnicode("_modules").Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark()
                .BinUnicode("child").Global("torch.nn.modules.linear", "Linear").EmptyTuple().NewObj().EmptyDict().Mark()
                    .BinUnicode("_parameters").Global("collections", "OrderedDict").EmptyTuple().Reduce()
                        .BinUnicode("bias").Tensor("FloatStorage", "1", 2, 0, [2], [1]).SetItem()
                    .BinUnicode("_buffers").Global("collections", "OrderedDict").EmptyTuple().Reduce()
                    .BinUnicode("_modules").Global("collections", "OrderedDict").EmptyTuple().Reduce()
                    .BinUnicode("in_features").BinInt1(4)
                .SetItems().Build()
                .BinUnicode("dropped").None()
            .SetItems()
        .SetItems().Build().Stop().ToArray();

    [Fact]
    public void A_pickled_module_lists_parameters_persistent_buffers_and_submodules_in_state_dict_order()
    {
        using var file = new TempFile(TorchZip.Build(ModulePickle(), TwoStorages));
        using var checkpoint = Checkpoint.Open(file.Path, OptIn);

        Assert.Equal(["weight", "running", "child.bias"], checkpoint.Tensors.Keys);
        Assert.True(checkpoint.Tensors["weight"].IsParameter);
        Assert.False(checkpoint.Tensors["running"].IsParameter);
        Assert.Equal([5f, 6], checkpoint.Read<float>("child.bias").Span.ToArray());
        Assert.Empty(checkpoint.Values);
    }

    [Fact]
    public void A_pickled_module_is_refused_without_the_opt_in_naming_its_classes()
    {
        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(ModulePickle(), TwoStorages), "__main__.Net");

        Assert.Equal(["__main__.Net", "torch.nn.modules.linear.Linear"], e.RefusedGlobals);
    }

    [Fact]
    public void A_pickled_module_cycle_is_refused()
    {
        var pickle = new PickleBuilder().Proto(2)
            .Global("__main__", "Net").EmptyTuple().NewObj().BinPut(0).EmptyDict()
                .BinUnicode("_modules").Global("collections", "OrderedDict").EmptyTuple().Reduce()
                    .BinUnicode("again").BinGet(0).SetItem()
            .SetItem().Build().Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle));

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(file.Path, OptIn));

        Assert.Contains("__main__.Net object at 'again' contains itself (a module cycle)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dangerous_global_inside_a_pickled_module_is_refused_under_the_opt_in()
    {
        // A forward hook that is os.system: the module's classes are tolerated, the hook is not.
        var pickle = new PickleBuilder().Proto(2)
            .Global("__main__", "Net").EmptyTuple().NewObj().EmptyDict()
                .BinUnicode("_forward_hooks").Global("collections", "OrderedDict").EmptyTuple().Reduce()
                    .BinInt1(0).Global("posix", "system").SetItem()
            .SetItem().Build().Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle));

        var e = Assert.Throws<CheckpointUnsafeException>(() => Read.All(file.Path, OptIn));

        Assert.Equal(["posix.system"], e.RefusedGlobals);
    }

    [Fact]
    public void A_non_tensor_parameter_is_refused_under_the_opt_in()
    {
        var pickle = new PickleBuilder().Proto(2)
            .Global("__main__", "Net").EmptyTuple().NewObj().EmptyDict()
                .BinUnicode("_parameters").Global("collections", "OrderedDict").EmptyTuple().Reduce()
                    .BinUnicode("weight").BinInt1(3).SetItem()
            .SetItem().Build().Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle));

        var e = Assert.Throws<CheckpointFormatException>(() => Read.All(file.Path, OptIn));

        Assert.Contains("_parameters['weight'] of the __main__.Net at '' is a int, not a tensor", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_object_that_is_not_a_module_reads_like_a_dict_of_its_attributes_under_the_opt_in()
    {
        // {"args": argparse.Namespace(lr=0.5, name='mlp')}
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("args")
            .Global("argparse", "Namespace").EmptyTuple().NewObj().EmptyDict().Mark()
                .BinUnicode("lr").BinFloat(0.5).BinUnicode("name").BinUnicode("mlp")
            .SetItems().Build()
            .SetItem().Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle));
        using var checkpoint = Checkpoint.Open(file.Path, OptIn);

        Assert.Equal(0.5, checkpoint.Values["args.lr"]);
        Assert.Equal("mlp", checkpoint.Values["args.name"]);
    }
}
