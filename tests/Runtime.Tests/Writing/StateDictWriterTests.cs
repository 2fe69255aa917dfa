using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using StateDict.Tests.Support;
using StateDict.Writing;
using Xunit;

namespace StateDict.Tests.Writing;

/// <summary>Building checkpoints from scratch: every dtype and value kind, ties, validation, nesting, safetensors headers.</summary>
public sealed class StateDictWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("statedict-writer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Theory]
    [InlineData("all.pth")]
    [InlineData("all.safetensors")]
    public void Every_dtype_reads_back_bit_exact(string name)
    {
        var writer = new StateDictWriter();
        var bytes = new Dictionary<string, byte[]>();
        foreach (var dtype in Enum.GetValues<DType>())
        {
            // Each format's gaps: safetensors has no complex128 or complex32, torch no float6.
            if (name.EndsWith(".safetensors", StringComparison.Ordinal) ? dtype.SafetensorsName() is null : dtype.PackedValues() == 4)
            {
                continue;
            }
            var data = new byte[6 * dtype.ElementSize()];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = dtype == DType.Bool ? (byte)(i % 2) : (byte)((i * 37) + (int)dtype);
            }
            bytes[dtype.Name()] = data;
            writer.Add(dtype.Name(), dtype, [2, 3], data);
        }
        writer.Add("scalar", DType.Float32, [], BitConverter.GetBytes(3.25f));
        writer.Add("empty", DType.Int64, [0, 4], ReadOnlySpan<byte>.Empty);
        writer.Save(PathOf(name));

        using var copy = Checkpoint.Open(PathOf(name));
        foreach (var (key, data) in bytes)
        {
            Assert.Equal(data, copy.ReadBytes(key).ToArray());
            Assert.Equal([2L, 3L], copy.Tensors[key].Shape.ToArray());
        }
        Assert.Equal(3.25f, copy.Read<float>("scalar").Span[0]);
        Assert.Empty(copy.Tensors["scalar"].Shape);
        Assert.Equal([0L, 4L], copy.Tensors["empty"].Shape.ToArray());
    }

    [Fact]
    public void Every_value_kind_reads_back()
    {
        var values = new Dictionary<string, object?>
        {
            ["small"] = 7L, ["byte"] = 255L, ["word"] = 65535L, ["int"] = 65536L, ["negative"] = -1L, ["int_min"] = (long)int.MinValue,
            ["long"] = long.MaxValue, ["long_min"] = long.MinValue, ["huge"] = BigInteger.Pow(2, 64), ["float"] = 0.1, ["nan"] = double.NaN,
            ["text"] = "naïve café ✓", ["empty_text"] = "", ["yes"] = true, ["no"] = false, ["none"] = null,
            ["bytes"] = new byte[] { 0, 1, 255 }, ["complex"] = new Complex(1.5, -2),
        };
        var writer = new StateDictWriter().Add<float>("w", [1], [1f]);
        foreach (var (key, value) in values)
        {
            writer.AddValue(key, value);
        }
        writer.AddValue("int32", 5);
        writer.Save(PathOf("values.pth"));

        using var copy = Checkpoint.Open(PathOf("values.pth"));
        Assert.Equal([.. values.Keys, "int32"], copy.Values.Keys);
        foreach (var (key, value) in values)
        {
            Assert.Equal(value, copy.Values[key]);
        }
        Assert.Equal(5L, copy.Values["int32"]);
    }

    [Fact]
    public void Ints_and_floats_are_encoded_as_CPython_pickles_them()
    {
        // pickle.dumps(x, protocol=2) of each, without PROTO/STOP.
        Assert.Equal("4bff", Encode(w => w.Int(255)));
        Assert.Equal("4d0001", Encode(w => w.Int(256)));
        Assert.Equal("4a00000100", Encode(w => w.Int(65536)));
        Assert.Equal("4affffffff", Encode(w => w.Int(-1)));
        Assert.Equal("8a050000008000", Encode(w => w.Int(2147483648L)));
        Assert.Equal("8a05ffffff7fff", Encode(w => w.Int(-2147483649L)));
        Assert.Equal("8a09000000000000000001", Encode(w => w.Int(BigInteger.Pow(2, 64))));
        Assert.Equal("473fb999999999999a", Encode(w => w.Float(0.1)));
        // The memo index passes 255: BINPUT q then LONG_BINPUT r.
        var writer = new PickleWriter();
        for (int i = 0; i < 257; i++)
        {
            writer.EmptyDict();
        }
        Assert.Equal("7d7200010000", Convert.ToHexStringLower(writer.Bytes[^6..]));
    }

    [Fact]
    public void The_same_bytes_added_twice_and_ties_share_one_storage()
    {
        var weights = new float[] { 1, 2, 3, 4 };
        var memory = MemoryMarshal.AsBytes(weights.AsSpan()).ToArray().AsMemory();
        var writer = new StateDictWriter()
            .Add("embed.weight", DType.Float32, [2, 2], (ReadOnlyMemory<byte>)memory)
            .Add("lm_head.weight", DType.Float32, [2, 2], (ReadOnlyMemory<byte>)memory)
            .Add<float>("copy", [2, 2], weights)
            .Tie("tied_copy", "copy");
        writer.Save(PathOf("tied.pth"));
        writer.Save(PathOf("tied.safetensors"));

        var records = ZipLayout.Parse(File.ReadAllBytes(PathOf("tied.pth")));
        Assert.Equal(2, records.Count(r => r.Name.StartsWith("tied/data/", StringComparison.Ordinal)));
        using (var pth = Checkpoint.Open(PathOf("tied.pth")))
        {
            Assert.Equal(pth.Tensors["embed.weight"].StorageKey, pth.Tensors["lm_head.weight"].StorageKey);
            Assert.Equal(pth.Tensors["copy"].StorageKey, pth.Tensors["tied_copy"].StorageKey);
            Assert.NotEqual(pth.Tensors["copy"].StorageKey, pth.Tensors["embed.weight"].StorageKey);
        }

        using var safetensors = Checkpoint.Open(PathOf("tied.safetensors"));
        Assert.Equal("embed.weight", safetensors.Metadata["lm_head.weight"]);
        Assert.Equal("copy", safetensors.Metadata["tied_copy"]);
        Assert.Equal(weights, (safetensors.Tensors.ContainsKey("lm_head.weight") ? safetensors.Read<float>("lm_head.weight") : safetensors.Read<float>("embed.weight")).ToArray());
    }

    [Fact]
    public void Tensor_views_of_a_checkpoint_are_written_without_copies_and_ties_kept()
    {
        using var views = Checkpoint.Open(Fixtures.PathOf("views.pth"));
        var writer = new StateDictWriter().Add("base", views.Read<float>("base")).Add("tied", views.Read<float>("tied"));
        writer.Save(PathOf("v.pth"));
        using var copy = Checkpoint.Open(PathOf("v.pth"));
        Assert.Equal(copy.Tensors["base"].StorageKey, copy.Tensors["tied"].StorageKey);
        Assert.Equal(views.ReadBytes("base").ToArray(), copy.ReadBytes("tied").ToArray());
    }

    [Fact]
    public void Nested_layout_writes_dicts_and_refuses_a_key_that_is_both_leaf_and_dict()
    {
        var writer = new StateDictWriter().Add<float>("model.fc.weight", [1], [1f]).AddValue("model.version", 2).AddValue("epoch", 1);
        writer.Save(PathOf("nested.pth"), new SaveOptions { Keys = KeyLayout.Nested });
        using (var copy = Checkpoint.Open(PathOf("nested.pth")))
        {
            Assert.Equal(["model.fc.weight"], copy.Tensors.Keys);
            Assert.Equal(["model.version", "epoch"], copy.Values.Keys);
        }
        var clash = new StateDictWriter().Add<float>("a", [1], [1f]).Add<float>("a.b", [1], [1f]);
        Assert.Throws<ArgumentException>(() => clash.Save(PathOf("clash.pth"), new SaveOptions { Keys = KeyLayout.Nested }));
        Assert.False(File.Exists(PathOf("clash.pth")));
    }

    [Fact]
    public void Bad_input_is_refused_when_added()
    {
        var writer = new StateDictWriter().Add<float>("w", [2], [1f, 2f]);
        Assert.Throws<ArgumentException>(() => writer.Add("x", DType.Float32, [3], new byte[8]));
        Assert.Throws<ArgumentException>(() => writer.Add("x", DType.Float32, [-1], ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => writer.Add<float>("w", [1], [1f]));
        Assert.Throws<ArgumentException>(() => writer.AddValue("list", new List<int>()));
        Assert.Throws<KeyNotFoundException>(() => writer.Tie("t", "missing"));
        Assert.Throws<ArgumentException>(() => new StateDictWriter().Add<float>("__metadata__", [1], [1f]).Save(PathOf("m.safetensors")));
    }

    [Theory]
    [InlineData("bools.pth")]
    [InlineData("bools.safetensors")]
    public void Bool_bytes_other_than_0_or_1_are_written_as_given_as_torch_save_and_the_crate_write_them(string name)
    {
        new StateDictWriter().Add("b", DType.Bool, [4], new byte[] { 0, 2, 255, 1 }).Save(PathOf(name));

        using var checkpoint = Checkpoint.Open(PathOf(name));
        Assert.Equal(new byte[] { 0, 2, 255, 1 }, checkpoint.ReadBytes("b").ToArray());
    }

    [Fact]
    public void A_name_with_a_lone_surrogate_is_refused_in_safetensors_rather_than_changed()
    {
        var writer = new StateDictWriter().Add<float>("w\ud800", [1], [1f]);

        var e = Assert.Throws<NotSupportedException>(() => writer.Save(PathOf("surrogate.safetensors")));
        Assert.Contains("lone UTF-16 surrogate (0xD800)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Safetensors_header_is_the_reference_writers()
    {
        var writer = new StateDictWriter()
            .Add<float>("attn.0", [1, 2, 3], [0, 1, 2, 3, 4, 5])
            .Add<byte>("mask", [2], [1, 0])
            .Add<double>("b", [1], [1.0])
            .Add<double>("a", [1], [2.0])
            .Add<Half>("h", [1], [(Half)1]);
        writer.Save(PathOf("h.safetensors"), new SaveOptions { Metadata = new Dictionary<string, string> { ["source"] = "test \"q\"" } });

        byte[] file = File.ReadAllBytes(PathOf("h.safetensors"));
        long n = BinaryPrimitives.ReadInt64LittleEndian(file);
        Assert.Equal(0, n % 8);
        string header = Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.Equal(
            "{\"__metadata__\":{\"format\":\"pt\",\"source\":\"test \\\"q\\\"\"}," +
            "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
            "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}," +
            "\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[16,40]}," +
            "\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[40,42]}," +
            "\"mask\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[42,44]}}",
            header.TrimEnd(' '));
        Assert.True(header.Length - header.TrimEnd(' ').Length < 8);
        Assert.Equal(8 + n + 44, file.Length);
        using var doc = JsonDocument.Parse(header);
        Assert.Equal(2.0, BitConverter.ToDouble(file, (int)(8 + n)));
    }

    [Fact]
    public void Saving_replaces_the_file_only_once_complete()
    {
        File.WriteAllText(PathOf("keep.safetensors"), "old");
        var writer = new StateDictWriter().Add("c", DType.Complex128, [1], new byte[16]);
        Assert.Throws<NotSupportedException>(() => writer.Save(PathOf("keep.safetensors")));
        Assert.Equal("old", File.ReadAllText(PathOf("keep.safetensors")));
        Assert.Single(Directory.GetFiles(_directory));
    }

    private static string Encode(Action<PickleWriter> write)
    {
        var writer = new PickleWriter();
        write(writer);
        return Convert.ToHexStringLower(writer.Bytes);
    }
}
