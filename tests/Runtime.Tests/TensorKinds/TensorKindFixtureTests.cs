using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>
/// The sparse and quantized fixtures (tests/fixtures/kinds, written by torch 1.13 or imitating torch ≥ 2.1) read exactly:
/// every component by SHA-256, ToDense against torch's to_dense(), Dequantize against torch.dequantize, in every memory mode.
/// </summary>
public class TensorKindFixtureTests
{
    public static TheoryData<string, TensorMemory> Files()
    {
        var data = new TheoryData<string, TensorMemory>();
        foreach (var name in new[] { "sparse.pth", "sparse_torch2.pth", "quantized.pth", "quantized_model.pth" })
        {
            foreach (var memory in new[] { TensorMemory.Managed, TensorMemory.NativeArena, TensorMemory.MemoryMapped })
            {
                data.Add($"kinds/{name}", memory);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_component_reads_as_torch_wrote_it(string name, TensorMemory memory)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), new LoadOptions { Memory = memory });
        CheckpointAssert.TensorsMatch(Fixtures.ExpectedFor(name), checkpoint);
        foreach (var entry in Document(name).GetProperty("tensors").EnumerateArray())
        {
            var info = checkpoint.Tensors[entry.GetProperty("key").GetString()!];
            string layout = entry.TryGetProperty("layout", out var l) ? l.GetString()! : "strided";
            Assert.Equal(layout, info.Layout.Name());
            Assert.Equal(entry.TryGetProperty("quantized_dtype", out var q) ? q.GetString() : null, info.QuantizedDType?.Name());
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Sparse_tensors_densify_like_torch_to_dense(string name, TensorMemory memory)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), new LoadOptions { Memory = memory });
        SparseMatch(name, checkpoint);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Quantized_tensors_dequantize_bit_exact(string name, TensorMemory memory)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), new LoadOptions { Memory = memory });
        QuantizedMatch(name, checkpoint);
    }

    /// <summary>The sparse tensors of <paramref name="checkpoint"/> are the fixture's: keys, layouts, shapes, torch's to_dense().</summary>
    internal static void SparseMatch(string name, Checkpoint checkpoint)
    {
        var expected = Document(name).GetProperty("sparse").EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.GetProperty("key").GetString()), checkpoint.SparseTensors.Keys);
        foreach (var want in expected)
        {
            var info = checkpoint.SparseTensors[want.GetProperty("key").GetString()!];
            Assert.Equal(want.GetProperty("layout").GetString(), info.Layout.Name());
            Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), info.Shape);
            string dense = info.DType switch
            {
                DType.Float32 => Hash(checkpoint.ReadSparse<float>(info.Key).ToDense()),
                DType.Int64 => Hash(checkpoint.ReadSparse<long>(info.Key).ToDense()),
                _ => throw new InvalidOperationException(info.DType.Name()),
            };
            Assert.True(want.GetProperty("dense_sha256").GetString() == dense, $"{info.Key}: to_dense differs");
        }
    }

    /// <summary>The quantized tensors of <paramref name="checkpoint"/> are the fixture's: parameters and torch's dequantize().</summary>
    internal static void QuantizedMatch(string name, Checkpoint checkpoint)
    {
        var expected = Document(name).GetProperty("quantized").EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.GetProperty("key").GetString()), checkpoint.QuantizedTensors.Keys);
        foreach (var want in expected)
        {
            var q = checkpoint.ReadQuantized(want.GetProperty("key").GetString()!);
            Assert.Equal(want.GetProperty("dtype").GetString(), q.Info.DType.Name());
            Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), q.Info.Shape);
            if (want.TryGetProperty("scale", out var scale))
            {
                Assert.Equal(QScheme.PerTensorAffine, q.Info.Scheme);
                Assert.Equal(scale.GetDouble(), q.Info.Scale);
                Assert.Equal(want.GetProperty("zero_point").GetInt64(), q.Info.ZeroPoint);
            }
            else
            {
                Assert.Equal(want.GetProperty("axis").GetInt32(), q.Info.Axis);
            }
            Assert.True(want.GetProperty("dequantized_sha256").GetString() == Hash(q.Dequantize()), $"{q.Info.Key}: dequantize differs");
        }
    }

    [Fact]
    public void Float_qparams_are_told_by_their_float_zero_points_as_torch_1_13_pickles_them_under_per_channel_affine()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/quantized.pth"));
        Assert.Equal(QScheme.PerChannelAffineFloatQParams, checkpoint.QuantizedTensors["float_qparams"].Scheme);
        Assert.Equal(QScheme.PerChannelAffine, checkpoint.QuantizedTensors["per_channel"].Scheme);
        Assert.Equal(QuantizedDType.QUInt4x2, checkpoint.QuantizedTensors["float_qparams_4bit"].DType);
    }

    [Fact]
    public void Uncoalesced_coo_keeps_its_duplicates_in_the_components_and_sums_them_when_dense()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/sparse.pth"));
        var sparse = checkpoint.ReadSparse<float>("uncoalesced");
        Assert.Equal(5, sparse.Values.Length);
        Assert.Null(sparse.Info.IsCoalesced);
        var dense = sparse.ToDense();
        Assert.Equal(0.1f + 0.2f + 0.3f, dense[0, 1]);
        Assert.Equal(0u, BitConverter.SingleToUInt32Bits(dense[1, 0])); // a stored -0.0 is +0.0 once dense, as in torch
    }

    [Fact]
    public void Torch_2_coo_carries_its_coalesced_flag()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/sparse_torch2.pth"));
        Assert.True(checkpoint.SparseTensors["coo"].IsCoalesced);
        Assert.Equal(new long[] { 2, 2 }, checkpoint.SparseTensors["bsr"].BlockSize.ToArray());
    }

    [Fact]
    public void A_quantized_linear_state_dict_lists_its_packed_weight_bias_and_dtype()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/quantized_model.pth"));
        Assert.Equal("torch.qint8", checkpoint.Values["dynamic.0._packed_params.dtype"]);
        Assert.Equal(QScheme.PerTensorAffine, checkpoint.QuantizedTensors["dynamic.0._packed_params._packed_params.0"].Scheme);
        Assert.Equal(QScheme.PerChannelAffine, checkpoint.QuantizedTensors["static.conv.weight"].Scheme);
        Assert.Equal(DType.Int8, checkpoint.ReadQuantized("static.conv.weight").IntRepr<sbyte>().DType);
    }

    [Fact]
    public void Selecting_a_prefix_rebinds_the_components()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/quantized_model.pth"), new LoadOptions { Prefix = "static." });
        var conv = checkpoint.QuantizedTensors["conv.weight"];
        Assert.Equal("conv.weight.scales", conv.Scales!.Key);
        Assert.Equal("conv.weight", checkpoint.Tensors["conv.weight.scales"].Owner);
        Assert.Equal(2, checkpoint.ReadQuantized("conv.weight").Dequantize().Shape[0]);
    }

    private static JsonElement Document(string name) =>
        JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf(name) + ".expected.json")).RootElement.Clone();

    private static string Hash<T>(TensorView<T> view) where T : unmanaged =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(view.Span)));
}
