using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>
/// Sparse and quantized tensors are written as torch writes them: the fixtures come out as torch.save's bytes and read
/// back exactly in every memory mode; tensors added from user code read back as given; safetensors refuses them.
/// </summary>
public sealed class TensorKindWritingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("statedict-kinds-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>torch 1.13's own COO, CSR and quantized files, and the torch ≥ 2.1 imitation (CSC, BSR, BSC, coalesced COO).</summary>
    [Theory]
    [InlineData("sparse.pth")]
    [InlineData("sparse_torch2.pth")]
    [InlineData("quantized.pth")]
    public void Writes_the_same_bytes_as_torch_save(string name)
    {
        string written = Path.Combine(_directory, name);
        using (var source = Checkpoint.Open(Fixtures.PathOf("kinds/" + name)))
        using (var stream = File.Create(written))
        {
            StateDictWriter.From(source).Write(stream, SaveFormat.Pth, Path.GetFileNameWithoutExtension(name), new SaveOptions(),
                byteOrderRecord: false, plainDict: true);
        }
        byte[] ours = File.ReadAllBytes(written);
        byte[] torchs = File.ReadAllBytes(Fixtures.PathOf("kinds/" + name));
        int first = ours.AsSpan().CommonPrefixLength(torchs);
        Assert.True(first == ours.Length && ours.Length == torchs.Length,
            $"differs from torch.save's {name} at byte {first} (ours {ours.Length} bytes, torch's {torchs.Length})");
    }

    [Theory]
    [MemberData(nameof(TensorKindFixtureTests.Files), MemberType = typeof(TensorKindFixtureTests))]
    public void Saved_kinds_read_back_exactly(string name, TensorMemory memory)
    {
        string written = Path.Combine(_directory, Path.GetFileName(name));
        var options = new LoadOptions { Memory = memory };
        using (var source = Checkpoint.Open(Fixtures.PathOf(name), options))
        {
            source.Save(written);
        }
        using var checkpoint = Checkpoint.Open(written, options);
        CheckpointAssert.TensorsMatch(Fixtures.ExpectedFor(name), checkpoint);
        TensorKindFixtureTests.SparseMatch(name, checkpoint);
        TensorKindFixtureTests.QuantizedMatch(name, checkpoint);
    }

    [Fact]
    public void Nested_keys_keep_a_quantized_models_tensors()
    {
        string written = Path.Combine(_directory, "nested.pth");
        using (var source = Checkpoint.Open(Fixtures.PathOf("kinds/quantized_model.pth")))
        {
            source.Save(written, new SaveOptions { Keys = KeyLayout.Nested });
        }
        using var checkpoint = Checkpoint.Open(written);
        CheckpointAssert.TensorsMatch(Fixtures.ExpectedFor("kinds/quantized_model.pth"), checkpoint);
        TensorKindFixtureTests.QuantizedMatch("kinds/quantized_model.pth", checkpoint);
    }

    [Fact]
    public void Sparse_tensors_added_from_user_code_read_back_as_given()
    {
        string path = Path.Combine(_directory, "user.pth");
        UserKinds().Save(path);
        using var checkpoint = Checkpoint.Open(path);
        Assert.Equal(["coo", "hybrid", "csr", "bsc", "q8", "q4", "per_channel", "float_qparams"], checkpoint.SparseTensors.Keys.Concat(checkpoint.QuantizedTensors.Keys));
        var coo = checkpoint.ReadSparse<float>("coo");
        Assert.Null(coo.Info.IsCoalesced);
        Assert.Equal([0f, 1.5f, 2f, 0f], coo.ToDense().ToArray());
        var hybrid = checkpoint.ReadSparse<double>("hybrid");
        Assert.True(hybrid.Info.IsCoalesced);
        Assert.Equal([0, 0, 1, 2, 0, 0], hybrid.ToDense().ToArray());
        Assert.Equal([1f, 0f, 2f, 0f, 0f, 3f], checkpoint.ReadSparse<float>("csr").ToDense().ToArray());
        var bsc = checkpoint.ReadSparse<int>("bsc");
        Assert.Equal(new long[] { 2, 1 }, bsc.Info.BlockSize.ToArray());
        Assert.Equal([1, 0, 0, 0, 2, 0, 3, 0], bsc.ToDense().ToArray());
    }

    [Fact]
    public void Quantized_tensors_added_from_user_code_read_back_as_given()
    {
        string path = Path.Combine(_directory, "user.pth");
        UserKinds().Save(path);
        using var checkpoint = Checkpoint.Open(path);
        var q8 = checkpoint.ReadQuantized("q8");
        Assert.Equal((0.5, -3L), (q8.Info.Scale, q8.Info.ZeroPoint));
        Assert.Equal([2f, 0f, -60f, 65f], q8.Dequantize().ToArray());
        Assert.Equal([(7 - 7) * 0.25f, (15 - 7) * 0.25f, (1 - 7) * 0.25f], checkpoint.ReadQuantized("q4").Dequantize().ToArray());
        var perChannel = checkpoint.ReadQuantized("per_channel");
        Assert.Equal((QScheme.PerChannelAffine, 1), (perChannel.Info.Scheme, perChannel.Info.Axis));
        Assert.Equal([1f, 0.5f, 0.5f, 2f], perChannel.Dequantize().ToArray());
        var floatParams = checkpoint.ReadQuantized("float_qparams");
        Assert.Equal(QScheme.PerChannelAffineFloatQParams, floatParams.Info.Scheme);
        Assert.Equal([(10 - 0.5f) * 0.1f, (20 - 0.5f) * 0.1f], floatParams.Dequantize().ToArray());
    }

    [Theory]
    [InlineData("kinds/sparse.pth", "'coo' is a sparse_coo tensor")]
    [InlineData("kinds/quantized.pth", "'qint8' is a quantized qint8 tensor")]
    public void Safetensors_refuses_sparse_and_quantized_tensors_naming_key_and_kind(string name, string message)
    {
        using var source = Checkpoint.Open(Fixtures.PathOf(name));
        var e = Assert.Throws<NotSupportedException>(() => source.Save(Path.Combine(_directory, "out.safetensors")));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "out.safetensors")));
    }

    [Fact]
    public void Indices_outside_the_shape_are_refused_when_added()
    {
        var writer = new StateDictWriter();
        var e = Assert.Throws<ArgumentException>(() => writer.AddSparseCoo<float>("adj", [2, 2], [0, 2, 1, 0], [1f, 2f]));
        Assert.Contains("'adj': sparse_coo indices[0, 1] = 2 is outside dimension 0 of size 2", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => writer.AddSparseCompressed<float>("w", TensorLayout.SparseCsr, [2, 2], [0, 2, 1], [1, 0], [1f, 2f]));
        Assert.Contains("crow_indices must start at 0 and end at nnz 2", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => writer.AddQuantized("q", QuantizedDType.QUInt4x2, [3], [1, 2, 3], 1.0, 0));
        Assert.Contains("quint4x2 [3] needs 2 bytes", e.Message, StringComparison.Ordinal);
        Assert.Empty(writer.Keys);
    }

    /// <summary>Every kind of sparse and quantized tensor the writer takes from user code; the torch lane loads the same file.</summary>
    internal static StateDictWriter UserKinds() => new StateDictWriter()
        .AddSparseCoo<float>("coo", [2, 2], [0, 1, 1, 0], [1.5f, 2f])
        .AddSparseCoo<double>("hybrid", [3, 2], [1], [1.0, 2.0], sparseDims: 1, isCoalesced: true)
        .AddSparseCompressed<float>("csr", TensorLayout.SparseCsr, [2, 3], [0, 2, 3], [0, 2, 2], [1f, 2f, 3f])
        .AddSparseCompressed<int>("bsc", TensorLayout.SparseBsc, [4, 2], [0, 2, 2], [0, 1], [1, 0, 2, 3], blockSize: [2, 1])
        .AddQuantized("q8", QuantizedDType.QInt8, [2, 2], [1, 253, 0x85, 127], scale: 0.5, zeroPoint: -3)
        .AddQuantized("q4", QuantizedDType.QUInt4x2, [3], [0xF7, 0x01], scale: 0.25, zeroPoint: 7)
        .AddQuantized("per_channel", QuantizedDType.QUInt8, [2, 2], [12, 8, 11, 14], [0.5, 0.25], [10L, 6L], axis: 1)
        .AddQuantized("float_qparams", QuantizedDType.QUInt8, [2], [10, 20], [0.1f, 0.1f], [0.5f, 0.5f], axis: 0);
}
