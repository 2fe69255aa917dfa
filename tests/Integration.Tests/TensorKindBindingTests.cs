using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using StateDict.Tests.Support;

namespace StateDict.Integration.Tests;

/// <summary>
/// Generated classes bind the tensor-kind fixtures torch 1.13 wrote (tests/fixtures/kinds): sparse tensors as
/// <see cref="SparseTensor{T}"/>, quantized ones as <see cref="QuantizedTensor"/>, meta ones as <see cref="TensorInfo"/>, in every
/// memory mode. Every component, <c>ToDense()</c> and <c>Dequantize()</c> is checked against PyTorch's SHA-256 in expected.json,
/// and every tensor of the file is reached through the generated object.
/// </summary>
public class TensorKindBindingTests
{
    public static TheoryData<TensorMemory> MemoryModes() => [.. Enum.GetValues<TensorMemory>()];

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Sparse_tensors_bind_as_SparseTensor(TensorMemory memory)
    {
        using var w = SparseKinds.Load(Fixtures.PathOf("kinds/sparse.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/sparse.pth", SparseKinds.Schema.Count);
        SparseTensor<float> coo = w.Coo;
        Assert.Equal(TensorLayout.SparseCoo, coo.Layout);
        SparseTensor<long> csr = w.CsrInt32;
        Assert.Equal(TensorLayout.SparseCsr, csr.Layout);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Csc_bsr_and_bsc_tensors_in_torch_2_form_bind_as_SparseTensor(TensorMemory memory)
    {
        using var w = SparseKindsTorch2.Load(Fixtures.PathOf("kinds/sparse_torch2.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/sparse_torch2.pth", SparseKindsTorch2.Schema.Count);
        Assert.Equal([2L, 2L], w.Bsr.Info.BlockSize.ToArray());
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Quantized_tensors_of_every_dtype_and_scheme_bind_as_QuantizedTensor(TensorMemory memory)
    {
        using var w = QuantizedKinds.Load(Fixtures.PathOf("kinds/quantized.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/quantized.pth", QuantizedKinds.Schema.Count);
        Assert.Equal(QScheme.PerChannelAffineFloatQParams, w.FloatQparams4bit.Info.Scheme);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void A_quantized_models_state_dict_binds_its_quantized_weights_and_plain_parameters(TensorMemory memory)
    {
        using var w = QuantizedModel.Load(Fixtures.PathOf("kinds/quantized_model.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/quantized_model.pth", QuantizedModel.Schema.Count);
        QuantizedTensor linear = w.Static.Fc.PackedParams.PackedParams.Item0;
        Assert.Equal(QuantizedDType.QInt8, linear.Info.DType);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void A_user_shaped_strict_class_binds_quantized_tensors_in_a_module_and_by_key(TensorMemory memory)
    {
        using var w = QuantizedNet.Load(Fixtures.PathOf("kinds/quantized_model.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/quantized_model.pth", QuantizedNet.Schema.Count, complete: false);
        Assert.Equal(QScheme.PerChannelAffine, w.Conv.Weight.Info.Scheme);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Sparse_and_quantized_tensors_of_a_sharded_checkpoint_bind_like_a_single_file(TensorMemory memory)
    {
        const string index = "kinds/sharded/pytorch_model.bin.index.json";
        using var w = ShardedKinds.Load(Fixtures.PathOf(index), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, index, ShardedKinds.Schema.Count);
        Assert.Equal(TensorLayout.SparseCoo, w.Emb.Weight.Layout);
        Assert.Equal(QuantizedDType.QInt8, w.Fc.Weight.Info.DType);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Meta_tensors_bind_as_their_shape_and_dtype_only(TensorMemory memory)
    {
        using var w = MetaKinds.Load(Fixtures.PathOf("kinds/meta.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/meta.pth", MetaKinds.Schema.Count);
        TensorInfo weight = w.Weight;
        Assert.True(weight.IsMeta);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Conj_and_neg_views_bind_as_the_values_torch_resolves(TensorMemory memory)
    {
        using var w = ConjViews.Load(Fixtures.PathOf("kinds/conj_views_torch2.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/conj_views_torch2.pth", ConjViews.Schema.Count);
        Assert.True(w.Conj.Info.IsConjugate);
    }

    [Theory]
    [MemberData(nameof(MemoryModes))]
    public void Complex32_and_the_newest_float8_and_float4_dtypes_bind_to_their_element_types(TensorMemory memory)
    {
        using var w = NewDTypes.Load(Fixtures.PathOf("kinds/new_dtypes_torch2.pth"), new LoadOptions { Memory = memory });
        AssertMatchesTorch(w, "kinds/new_dtypes_torch2.pth", NewDTypes.Schema.Count);
        TensorView<Complex32> complex = w.Complex32;
        TensorView<Float4E2M1FNx2> packed = w.Float4E2m1fnX2;
        Assert.Equal(3, complex.Length);
        Assert.Equal(256, packed.Length);
    }

    [Fact]
    public void Reading_a_bound_meta_tensors_data_is_a_clear_error()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/meta.pth"));
        using var w = MetaByHand.From(checkpoint);
        var error = Assert.Throws<CheckpointFormatException>(() => checkpoint.Read<float>(w.Weight.Key));
        Assert.Contains("'weight' is a meta tensor: it has a shape and dtype but no data", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, w.Real.Length);
    }

    [Fact]
    public void A_selective_class_binds_sparse_tensors_by_key()
    {
        using var w = SparseByHand.Load(Fixtures.PathOf("kinds/sparse.pth"));
        AssertMatchesTorch(w, "kinds/sparse.pth", SparseByHand.Schema.Count, complete: false);
        Assert.Equal([3L, 4L], w.Adjacency.Shape.ToArray());
    }

    [Fact]
    public void A_sparse_key_that_is_dense_in_the_file_or_missing_is_a_schema_mismatch()
    {
        string path = Temp(new StateDictWriter().Add<float>("coo", [3, 4], new float[12]));
        try
        {
            var error = Assert.Throws<CheckpointSchemaMismatchException>(() => SparseByHand.Load(path));
            Assert.Contains("'coo' is float32 in the file but sparse_coo float32 in the schema", error.Message, StringComparison.Ordinal);
            Assert.Contains("missing key 'csr_int32'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_quantized_key_that_is_dense_in_the_file_is_a_schema_mismatch()
    {
        string key = "static.fc._packed_params._packed_params.0";
        string path = Temp(new StateDictWriter().Add<sbyte>(key, [3, 8], new sbyte[24]));
        try
        {
            var error = Assert.Throws<CheckpointSchemaMismatchException>(() => QuantizedNet.Load(path));
            Assert.Contains($"'{key}' is int8 in the file but quantized qint8 (per_channel_affine) in the schema", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Save_writes_sparse_quantized_and_meta_tensors_as_themselves()
    {
        foreach (var (fixture, save) in new (string, Action<string>)[]
        {
            ("kinds/sparse.pth", p => { using var w = SparseKinds.Load(Fixtures.PathOf("kinds/sparse.pth")); w.Save(p); }),
            ("kinds/quantized.pth", p => { using var w = QuantizedKinds.Load(Fixtures.PathOf("kinds/quantized.pth")); w.Save(p); }),
            ("kinds/meta.pth", p => { using var w = MetaKinds.Load(Fixtures.PathOf("kinds/meta.pth")); w.Save(p); }),
        })
        {
            string path = Path.Combine(Path.GetTempPath(), $"statedict-kinds-{Guid.NewGuid():N}.pth");
            try
            {
                save(path);
                using var saved = Checkpoint.Open(path);
                var expected = ExpectedKinds.Read(fixture);
                Assert.Equal(expected.Sparse.Keys.Order(StringComparer.Ordinal), saved.SparseTensors.Keys.Order(StringComparer.Ordinal));
                Assert.Equal(expected.Quantized.Keys.Order(StringComparer.Ordinal), saved.QuantizedTensors.Keys.Order(StringComparer.Ordinal));
                foreach (var (key, info) in saved.Tensors)
                {
                    var want = expected.Tensors[key];
                    Assert.Equal(want.Meta, info.IsMeta);
                    Assert.Equal(want.Sha256, info.IsMeta ? null : Convert.ToHexStringLower(SHA256.HashData(saved.ReadBytes(key).Span)));
                }
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    private static string Temp(StateDictWriter writer)
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-kinds-{Guid.NewGuid():N}.pth");
        writer.Save(path);
        return path;
    }

    /// <summary>
    /// Every tensor bound from <paramref name="fixture"/> is what torch says (components, dense and dequantized values by
    /// SHA-256, quantization parameters, meta shapes), and the bound tensors cover the schema.
    /// </summary>
    private static void AssertMatchesTorch(object bound, string fixture, int schemaCount, bool complete = true)
    {
        var expected = ExpectedKinds.Read(fixture);
        var tensors = TensorWalker.Tensors(bound);
        Assert.Equal(schemaCount, tensors.Count);
        var reached = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in tensors)
        {
            reached.UnionWith(expected.Tensors.Keys.Where(k => k == key || (!tensors.ContainsKey(k) && k.StartsWith(key + ".", StringComparison.Ordinal))));
            switch (value)
            {
                case SparseTensor<float> s:
                    AssertSparse(s, expected);
                    break;
                case SparseTensor<long> s:
                    AssertSparse(s, expected);
                    break;
                case QuantizedTensor q:
                    AssertQuantized(q, expected);
                    break;
                case TensorInfo meta:
                    var want = expected.Tensors[key];
                    Assert.True(want.Meta && meta.IsMeta, $"{key} is not a meta tensor");
                    Assert.Equal(want.DType, meta.DType.Name());
                    Assert.Equal(want.Shape, meta.Shape.ToArray());
                    break;
                default:
                    Assert.Equal(expected.Tensors[key].Sha256, TensorWalker.Sha256(value));
                    break;
            }
        }
        if (complete)
        {
            // Through the generated tree, every tensor torch listed is reached: components with their sparse or quantized tensor.
            Assert.Equal(expected.Tensors.Keys.Order(StringComparer.Ordinal), reached.Order(StringComparer.Ordinal));
        }
    }

    private static void AssertSparse<T>(SparseTensor<T> sparse, ExpectedKinds expected) where T : unmanaged
    {
        string key = sparse.Info.Key;
        var want = expected.Sparse[key];
        Assert.Equal(want.GetProperty("layout").GetString(), sparse.Layout.Name());
        Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), sparse.Shape);
        var names = sparse.Layout.ComponentNames();
        var views = sparse.Layout == TensorLayout.SparseCoo ? new[] { sparse.Indices! } : [sparse.CompressedIndices!, sparse.PlainIndices!];
        for (int i = 0; i < views.Length; i++)
        {
            var component = expected.Tensors[$"{key}.{names[i]}"];
            // int32 compressed indices are handed out widened to int64: hash them back at the width torch stored.
            var indices = views[i].Span;
            byte[] bytes = component.DType == "int32"
                ? MemoryMarshal.AsBytes(indices.ToArray().Select(v => checked((int)v)).ToArray().AsSpan()).ToArray()
                : MemoryMarshal.AsBytes(indices).ToArray();
            Assert.Equal(component.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        Assert.Equal(expected.Tensors[key + ".values"].Sha256, TensorWalker.Sha256(sparse.Values));
        Assert.Equal(want.GetProperty("dense_sha256").GetString(), TensorWalker.Sha256(sparse.ToDense()));
    }

    private static void AssertQuantized(QuantizedTensor quantized, ExpectedKinds expected)
    {
        string key = quantized.Info.Key;
        var want = expected.Quantized[key];
        Assert.Equal(want.GetProperty("dtype").GetString(), quantized.Info.DType.Name());
        Assert.Equal(want.GetProperty("qscheme").GetString(), quantized.Info.Scheme.Name());
        Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), quantized.Info.Shape);
        object repr = quantized.Info.DType switch
        {
            QuantizedDType.QInt8 => quantized.IntRepr<sbyte>(),
            QuantizedDType.QInt32 => quantized.IntRepr<int>(),
            _ => quantized.IntRepr<byte>(),
        };
        Assert.Equal(expected.Tensors[key].Sha256, TensorWalker.Sha256(repr));
        Assert.Equal(want.GetProperty("dequantized_sha256").GetString(), TensorWalker.Sha256(quantized.Dequantize()));
        if (want.TryGetProperty("scale", out var scale))
        {
            Assert.Equal((scale.GetDouble(), want.GetProperty("zero_point").GetInt64()), (quantized.Info.Scale, quantized.Info.ZeroPoint));
        }
    }

    /// <summary>A kinds fixture's expected.json: every listed tensor (components included), and its sparse and quantized sections.</summary>
    private sealed record ExpectedKinds(
        Dictionary<string, (string DType, long[] Shape, bool Meta, string? Sha256)> Tensors,
        Dictionary<string, JsonElement> Sparse,
        Dictionary<string, JsonElement> Quantized)
    {
        public static ExpectedKinds Read(string fixture)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf(fixture + ".expected.json")));
            var root = doc.RootElement;
            var tensors = root.GetProperty("tensors").EnumerateArray().ToDictionary(
                t => t.GetProperty("key").GetString()!,
                t => (t.GetProperty("dtype").GetString()!, t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                    t.TryGetProperty("meta", out var meta) && meta.GetBoolean(), t.GetProperty("sha256").GetString()));
            Dictionary<string, JsonElement> Section(string name) => root.TryGetProperty(name, out var section)
                ? section.EnumerateArray().ToDictionary(e => e.GetProperty("key").GetString()!, e => e.Clone())
                : [];
            return new ExpectedKinds(tensors, Section("sparse"), Section("quantized"));
        }
    }
}
