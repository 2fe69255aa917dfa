using System.Runtime.InteropServices;
using StateDict.Tests.Hostile;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>
/// safetensors files and sharded checkpoints through the public API: the same tensors as the torch fixtures they were
/// made from, every dtype of the format with its values, metadata, detection by content, memory mapping, and a
/// sharded checkpoint opened, selected and closed as one.
/// </summary>
public class SafetensorsTests
{
    private static Checkpoint Open(string fixture, LoadOptions? options = null) => Checkpoint.Open(Fixtures.PathOf(fixture), options);

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Metadata_is_what_the_file_declares(string name)
    {
        using var checkpoint = Open(name);

        Assert.Equal(Fixtures.ExpectedFor(name).Metadata.OrderBy(p => p.Key, StringComparer.Ordinal), checkpoint.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Metadata_keeps_non_ASCII_text_and_is_empty_for_torch_files()
    {
        using var safetensors = Open("safetensors/dtypes.safetensors");
        using var torch = Open("dtypes.pth");

        Assert.Equal("naïve café ✓", safetensors.Metadata["unicode"]);
        Assert.Equal("pt", safetensors.Metadata["format"]);
        Assert.Empty(torch.Metadata);
    }

    [Theory]
    [InlineData("safetensors/dtypes.safetensors", "dtypes.pth")]
    [InlineData("safetensors/mlp.safetensors", "mlp.pth")]
    [InlineData("sharded/model.safetensors.index.json", "mlp.pth")]
    [InlineData("sharded/pytorch_model.bin.index.json", "mlp.pth")]
    public void Every_tensor_equals_the_torch_fixture_it_was_made_from(string name, string torchFixture)
    {
        using var checkpoint = Open(name);
        using var source = Open(torchFixture);

        var common = checkpoint.Tensors.Keys.Where(source.Tensors.ContainsKey).ToList();
        Assert.Equal(source.Tensors.Keys.Where(k => !k.StartsWith("complex128", StringComparison.Ordinal)).Order(StringComparer.Ordinal), common.Order(StringComparer.Ordinal));
        foreach (string key in common)
        {
            Assert.Equal(source.Tensors[key].DType, checkpoint.Tensors[key].DType);
            Assert.Equal(source.Tensors[key].Shape.ToArray(), checkpoint.Tensors[key].Shape.ToArray());
            Assert.True(source.ReadBytes(key).Span.SequenceEqual(checkpoint.ReadBytes(key).Span), key);
        }
    }

    [Fact]
    public void Float8_tensors_convert_to_the_floats_their_bits_encode()
    {
        using var checkpoint = Open("safetensors/dtypes.safetensors");

        Assert.Equal([0f, 1f, 448f, -1f, MathF.ScaleB(1, -9), float.NaN], checkpoint.Read<Float8E4M3FN>("float8_e4m3fn").ToArray().Select(v => (float)v));
        Assert.Equal([0f, 1f, 57344f, -1f, MathF.ScaleB(1, -16), float.PositiveInfinity], checkpoint.Read<Float8E5M2>("float8_e5m2").ToArray().Select(v => (float)v));
        Assert.Equal(1f, (float)checkpoint.Read<Float8E4M3FN>("float8_e4m3fn_scalar").Span[0]);
        Assert.Equal(DType.Float8E4M3FN, checkpoint.Tensors["float8_e4m3fn"].DType);
    }

    [Fact]
    public void Unsigned_tensors_hold_their_extremes()
    {
        using var checkpoint = Open("safetensors/dtypes.safetensors");

        Assert.Equal([(ushort)0, 1, 127, 128, 65534, 65535], checkpoint.Read<ushort>("uint16").ToArray());
        Assert.Equal([0u, 1, 127, 128, uint.MaxValue - 1, uint.MaxValue], checkpoint.Read<uint>("uint32").ToArray());
        Assert.Equal([0ul, 1, 127, 128, ulong.MaxValue - 1, ulong.MaxValue], checkpoint.Read<ulong>("uint64").ToArray());
        Assert.Equal(1ul, checkpoint.Read<ulong>("uint64_scalar").Span[0]);
        Assert.Empty(checkpoint.Tensors["uint64_scalar"].Shape);
    }

    [Fact]
    public void Keys_follow_the_header_and_every_tensor_is_its_own_contiguous_storage()
    {
        using var checkpoint = Open("safetensors/mlp.safetensors");

        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], checkpoint.Tensors.Keys);
        Assert.All(checkpoint.Tensors.Values, t => Assert.True(t.IsContiguous));
        Assert.All(checkpoint.Tensors.Values, t => Assert.Equal(t.Key, t.StorageKey));
        Assert.All(checkpoint.Tensors.Values, t => Assert.False(t.IsParameter));
        Assert.Empty(checkpoint.Values);
    }

    [Fact]
    public void Memory_mapped_views_point_into_the_file_without_a_copy()
    {
        using var checkpoint = Open("safetensors/mlp.safetensors", new LoadOptions { Memory = TensorMemory.MemoryMapped });
        var view = checkpoint.Read<float>("fc1.weight");

        Assert.False(MemoryMarshal.TryGetArray(view.Memory, out _));
        unsafe
        {
            using var pin = view.Memory.Pin();
            Assert.Equal(0, (long)pin.Pointer % 8); // the writer pads the header so that data starts 8-aligned
        }
    }

    [Fact]
    public void Memory_mapped_shards_are_views_of_their_own_files()
    {
        using var checkpoint = Open("sharded/model.safetensors.index.json", new LoadOptions { Memory = TensorMemory.MemoryMapped });
        using var mlp = Open("mlp.pth");

        foreach (string key in mlp.Tensors.Keys)
        {
            var view = checkpoint.Read<float>(key);
            Assert.False(MemoryMarshal.TryGetArray(view.Memory, out _));
            Assert.Equal(mlp.Read<float>(key).ToArray(), view.ToArray());
        }
    }

    [Theory]
    [InlineData("sharded/model.safetensors.index.json", "model-00001-of-00002.safetensors:fc1.weight")]
    [InlineData("sharded/pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin:0")]
    public void Sharded_storage_keys_name_their_shard(string name, string storageKey)
    {
        using var checkpoint = Open(name);

        Assert.Equal(storageKey, checkpoint.Tensors["fc1.weight"].StorageKey);
        Assert.Equal(CheckpointFormat.Sharded, checkpoint.Format);
        Assert.Equal("2704", checkpoint.Metadata["total_size"]);
    }

    [Fact]
    public async Task A_sharded_checkpoint_preloads_every_shard_and_honours_prefixes()
    {
        using var all = await Checkpoint.OpenAsync(Fixtures.PathOf("sharded/pytorch_model.bin.index.json"));
        using var fc2 = Open("sharded/pytorch_model.bin.index.json", new LoadOptions { Prefix = "fc2." });

        Assert.Equal(4, all.Tensors.Count);
        Assert.Equal(["weight", "bias"], fc2.Tensors.Keys);
        Assert.Equal(all.Read<float>("fc2.bias").ToArray(), fc2.Read<float>("bias").ToArray());
    }

    [Fact]
    public void The_format_is_told_by_content_not_by_name()
    {
        using var folder = ShardFolder.Copy();
        string disguisedSafetensors = Path.Combine(folder.Path, "weights.pth");
        string disguisedZip = Path.Combine(folder.Path, "weights.safetensors");
        string disguisedIndex = Path.Combine(folder.Path, "index.txt");
        File.Copy(Fixtures.PathOf("safetensors/mlp.safetensors"), disguisedSafetensors);
        File.Copy(Fixtures.PathOf("mlp.pth"), disguisedZip);
        File.Copy(Path.Combine(folder.Path, "pytorch_model.bin.index.json"), disguisedIndex);

        using (var checkpoint = Checkpoint.Open(disguisedSafetensors))
        {
            Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Format);
        }
        using (var checkpoint = Checkpoint.Open(disguisedZip))
        {
            Assert.Equal(CheckpointFormat.Zip, checkpoint.Format);
        }
        using (var checkpoint = Checkpoint.Open(disguisedIndex))
        {
            Assert.Equal(CheckpointFormat.Sharded, checkpoint.Format);
            Assert.Equal(4, checkpoint.Tensors.Count);
        }
    }

    [Fact]
    public void An_index_with_a_UTF_8_byte_order_mark_opens()
    {
        using var folder = ShardFolder.Copy();
        File.WriteAllBytes(folder.Index, [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(folder.Index)]);

        using var checkpoint = Checkpoint.Open(folder.Index);

        Assert.Equal(4, checkpoint.Tensors.Count);
    }

    [Fact]
    public void Shards_may_be_in_a_subfolder_of_the_index()
    {
        using var folder = ShardFolder.Copy();
        string sub = Path.Combine(folder.Path, "shards");
        Directory.CreateDirectory(sub);
        foreach (string shard in Directory.GetFiles(folder.Path, "model-*.safetensors"))
        {
            File.Move(shard, Path.Combine(sub, Path.GetFileName(shard)));
        }
        folder.EditIndex(index => index.Replace("\"model-", "\"shards/model-", StringComparison.Ordinal));

        using var checkpoint = Checkpoint.Open(folder.Index);

        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], checkpoint.Tensors.Keys);
        Assert.Equal(128, checkpoint.ReadBytes("fc1.bias").Length);
    }
}
