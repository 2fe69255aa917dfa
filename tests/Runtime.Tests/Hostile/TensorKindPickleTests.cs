using StateDict.Tests.Pickle;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Hand-built pickles of the tensor kinds: conj/neg metadata, _rebuild_from_type_v2, meta tensors and lone
/// surrogates, where they are valid (read like torch) and where they are not (a typed error naming the key; a kind
/// StateDict does not read is "unsupported", never "unsafe").
/// </summary>
public class TensorKindPickleTests
{
    private static readonly byte[] OneTwo = TorchZip.Floats(1f, -2f);

    /// <summary><c>{'x': _rebuild_tensor_v2(storage of 2 floats, 0, (2,), (1,), False, OrderedDict(), METADATA)}</c>.</summary>
    private static byte[] WithMetadata(Action<PickleBuilder> metadata, string storageClass = "FloatStorage")
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("x")
            .Global("torch._utils", "_rebuild_tensor_v2").Mark().StoragePid(storageClass, "0", 2).Int64(0)
            .Mark().Int64(2).Tuple().Mark().Int64(1).Tuple()
            .NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce();
        metadata(pickle);
        return TorchZip.Build(pickle.Tuple().Reduce().SetItem().Stop().ToArray(), new Dictionary<string, byte[]> { ["0"] = OneTwo });
    }

    private static Action<PickleBuilder> Dict(string key, Action<PickleBuilder> value) => p =>
    {
        value(p.EmptyDict().BinUnicode(key));
        p.SetItem();
    };

    [Fact]
    public void A_neg_bit_negates_the_values_read()
    {
        using var file = new TempFile(WithMetadata(Dict("neg", p => p.NewTrue())));

        Assert.Equal(new[] { -1f, 2f }, Read.All(file.Path)["x"].Chunk(4).Select(b => BitConverter.ToSingle(b)));
    }

    [Fact]
    public void A_false_bit_and_an_empty_dict_change_nothing()
    {
        using var falseBit = new TempFile(WithMetadata(Dict("conj", p => p.NewFalse())));
        using var empty = new TempFile(WithMetadata(p => p.EmptyDict()));

        Assert.Equal(OneTwo, Read.All(falseBit.Path)["x"]);
        Assert.Equal(OneTwo, Read.All(empty.Path)["x"]);
    }

    [Fact]
    public void Unknown_tensor_metadata_is_unsupported_not_unsafe() =>
        Read.Fails<CheckpointFormatException>(WithMetadata(Dict("python_attr", p => p.NewTrue())), "unsupported: tensor metadata 'python_attr' tensor at 'x'");

    [Fact]
    public void A_conj_bit_on_a_real_tensor_is_unsupported() =>
        Read.Fails<CheckpointFormatException>(WithMetadata(Dict("conj", p => p.NewTrue())), "unsupported: conjugate float32 tensor at 'x'");

    [Fact]
    public void Metadata_that_is_not_a_dict_is_corrupt() =>
        Read.Fails<CheckpointCorruptException>(WithMetadata(p => p.EmptyList()), "tensor 'x': the tensor metadata is a list, not a dict");

    /// <summary><c>{'x': _rebuild_from_type_v2(_rebuild_tensor_v2, TYPE, (args...), STATE)}</c>.</summary>
    private static byte[] FromType(string typeModule, string typeName, Action<PickleBuilder> state)
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("x")
            .Global("torch._tensor", "_rebuild_from_type_v2").Mark()
            .Global("torch._utils", "_rebuild_tensor_v2").Global(typeModule, typeName)
            .Mark().StoragePid("FloatStorage", "0", 2).Int64(0).Mark().Int64(2).Tuple().Mark().Int64(1).Tuple()
            .NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple();
        state(pickle);
        return TorchZip.Build(pickle.Tuple().Reduce().SetItem().Stop().ToArray(), new Dictionary<string, byte[]> { ["0"] = OneTwo });
    }

    [Fact]
    public void A_tensor_with_plain_attributes_reads_as_its_data()
    {
        using var file = new TempFile(FromType("torch", "Tensor", Dict("note", p => p.BinUnicode("calibrated"))));

        Assert.Equal(OneTwo, Read.All(file.Path)["x"]);
    }

    [Fact]
    public void A_Parameter_rebuilt_from_type_is_a_parameter()
    {
        using var file = new TempFile(FromType("torch.nn.parameter", "Parameter", p => p.EmptyDict()));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.True(checkpoint.Tensors["x"].IsParameter);
    }

    [Fact]
    public void Attributes_that_are_not_plain_data_are_unsupported() =>
        Read.Fails<CheckpointFormatException>(FromType("torch", "Tensor", Dict("inner", p => p.EmptyList())),
            "unsupported: torch.Tensor with a dict state that is not plain data tensor at 'x'");

    [Fact]
    public void A_user_subclass_is_refused_as_a_global_outside_the_allow_list() =>
        Read.Fails<CheckpointUnsafeException>(FromType("__main__", "MyTensor", p => p.EmptyDict()), "__main__.MyTensor");

    private static byte[] Meta(long dim) => TorchZip.Build(new PickleBuilder().Proto(2).EmptyDict().BinUnicode("m")
        .Global("torch._utils", "_rebuild_meta_tensor_no_storage").Mark().Global("torch", "bfloat16")
        .Mark().Int64(dim).Int64(3).Tuple().Mark().Int64(3).Int64(1).Tuple().NewFalse().Tuple().Reduce()
        .SetItem().Stop().ToArray());

    [Fact]
    public void A_meta_tensor_needs_no_storage()
    {
        using var file = new TempFile(Meta(1_000_000_000));
        using var checkpoint = Checkpoint.Open(file.Path);
        var m = checkpoint.Tensors["m"];

        Assert.True(m.IsMeta);
        Assert.Equal(3_000_000_000L, m.ElementCount);
        Assert.Equal(DType.BFloat16, m.DType);
    }

    [Fact]
    public void A_meta_tensor_with_a_negative_size_is_corrupt() =>
        Read.Fails<CheckpointCorruptException>(Meta(-1), "tensor 'm': size holds -1, not a non-negative integer");

    private static byte[] StringValue(byte[] utf8) => TorchZip.Build(new PickleBuilder().Proto(2).EmptyDict()
        .BinUnicode("s").BinUnicode(utf8).SetItem().Stop().ToArray());

    [Fact]
    public void Surrogatepass_bytes_decode_to_lone_surrogates_like_CPython()
    {
        using var file = new TempFile(StringValue([(byte)'a', 0xED, 0xA0, 0x80, 0xED, 0xBF, 0xBF, (byte)'z']));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal("a\ud800\udfffz", checkpoint.Values["s"]);
    }

    [Fact]
    public void Invalid_UTF8_beside_a_surrogate_is_still_corrupt() =>
        Read.Fails<CheckpointCorruptException>(StringValue([0xED, 0xA0, 0x80, 0xFF]), "string is not valid UTF-8");
}
