using StateDict.Tests.Support;

namespace StateDict.Integration.Tests;

/// <summary>Generated classes bind real PyTorch checkpoints: every bound tensor's bytes match PyTorch's SHA-256.</summary>
public class BindingTests
{
    [Fact]
    public void Mlp_binds_every_tensor_exactly()
    {
        using var w = Mlp.Load(Fixtures.PathOf("mlp.pth"));
        AssertMatchesFixture(w, "mlp.pth", Mlp.Schema.Count);
        Assert.Equal(new long[] { 32, 16 }, w.Fc1.Weight.Shape);
        Assert.Equal("fc2.bias", w.Fc2.Bias.Key);
    }

    [Fact]
    public void Sequential_indices_with_gaps_become_item_properties()
    {
        using var w = SequentialNet.Load(Fixtures.PathOf("sequential.pth"));
        AssertMatchesFixture(w, "sequential.pth", SequentialNet.Schema.Count);
        Assert.Equal(new long[] { 2, 8 }, w.Item2.Weight.Shape);
    }

    [Fact]
    public void Training_checkpoint_binds_the_model_subtree_by_detected_prefix()
    {
        using var w = CheckpointModel.Load(Fixtures.PathOf("checkpoint.pth"));
        Assert.Equal("model.", w.Report.Prefix);
        Assert.True(w.Report.PrefixDetected);
        AssertMatchesFixture(w, "checkpoint.pth", CheckpointModel.Schema.Count);
    }

    [Fact]
    public void Training_checkpoint_binds_with_an_explicit_prefix()
    {
        using var w = CheckpointModel.Load(Fixtures.PathOf("checkpoint.pth"), new LoadOptions { Prefix = "model.", DetectPrefix = false });
        Assert.Equal("model.", w.Report.Prefix);
        Assert.False(w.Report.PrefixDetected);
        Assert.Equal(new long[] { 4, 32 }, w.Fc2.Weight.Shape);
    }

    [Fact]
    public void MobileNet_binds_all_its_tensors()
    {
        using var w = MobileNetV3Small.Load(Fixtures.PathOf("mobilenet_v3_small.pth"));
        AssertMatchesFixture(w, "mobilenet_v3_small.pth", MobileNetV3Small.Schema.Count);
        Assert.Equal(DType.Int64, w.Features.Item0.Item1.NumBatchesTracked.DType);
    }

    [Fact]
    public void DataParallel_module_prefix_is_detected_and_reported()
    {
        using var w = DataParallelNet.Load(Fixtures.PathOf("dataparallel.pth"));
        Assert.Equal("module.", w.Report.Prefix);
        Assert.True(w.Report.PrefixDetected);
        AssertMatchesFixture(w, "dataparallel.pth", DataParallelNet.Schema.Count);
    }

    [Fact]
    public void Every_dtype_binds_to_its_element_type()
    {
        using var w = AllDTypes.Load(Fixtures.PathOf("dtypes.pth"));
        AssertMatchesFixture(w, "dtypes.pth", AllDTypes.Schema.Count);
        TensorView<BFloat16> bf = w.Bfloat16;
        TensorView<System.Numerics.Complex> c = w.Complex128;
        TensorView<bool> b = w.BoolScalar;
        Assert.Equal(6, bf.Length);
        Assert.Equal(6, c.Length);
        Assert.Equal(1, b.Length);
    }

    [Fact]
    public void Views_in_a_nested_class_bind_row_major()
    {
        using var w = Nested.Views.Load(Fixtures.PathOf("views.pth"));
        AssertMatchesFixture(w, "views.pth", Nested.Views.Schema.Count);
        Assert.Equal(w.Base[1, 2], w.Transposed[2, 1]);
    }

    [Fact]
    public void Selective_binding_loads_only_the_declared_keys()
    {
        using var w = DigitsHead.Load(Fixtures.PathOf("digits_mlp.pth"));
        Assert.Equal(new[] { "out.weight", "out.bias" }, DigitsHead.Schema.Select(e => e.Key));
        Assert.Equal(new long[] { 10, 128 }, w.OutputWeight.Shape);
        Assert.Equal(new long[] { 10 }, w.OutputBias.Shape);
        AssertMatchesFixture(w, "digits_mlp.pth", 2);
    }

    [Fact]
    public void From_binds_an_open_checkpoint_without_taking_ownership()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("mlp.pth"));
        var w = Mlp.From(checkpoint);
        w.Dispose();
        Assert.Equal(4, checkpoint.Read<float>("fc2.bias").Length);
    }

    [Fact]
    public async Task LoadAsync_binds_after_preloading_with_progress()
    {
        var reports = new List<LoadProgress>();
        using var w = await MobileNetV3Small.LoadAsync(Fixtures.PathOf("mobilenet_v3_small.pth"), progress: new Progress<LoadProgress>(reports.Add));
        AssertMatchesFixture(w, "mobilenet_v3_small.pth", MobileNetV3Small.Schema.Count);
    }

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Every_memory_mode_binds_the_same_bytes(TensorMemory memory)
    {
        using var w = MobileNetV3Small.Load(Fixtures.PathOf("mobilenet_v3_small.pth"), new LoadOptions { Memory = memory });
        AssertMatchesFixture(w, "mobilenet_v3_small.pth", MobileNetV3Small.Schema.Count);
    }

    [Fact]
    public void Save_writes_the_bound_tensors_under_the_schema_keys()
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-save-{Guid.NewGuid():N}.pth");
        try
        {
            using (var w = CheckpointModel.Load(Fixtures.PathOf("checkpoint.pth")))
            {
                w.Save(path);
            }
            // The model sub-tree of the training checkpoint, saved as a plain state_dict: same bytes, keys without "model.".
            var expected = Fixtures.ExpectedFor("checkpoint.pth").Tensors.ToDictionary(t => t.Key, t => t.Sha256);
            using var saved = Checkpoint.Open(path);
            Assert.Equal(CheckpointModel.Schema.Select(e => e.Key), saved.Tensors.Keys);
            foreach (var key in saved.Tensors.Keys)
            {
                Assert.Equal(expected["model." + key], Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(saved.ReadBytes(key).Span)));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertMatchesFixture(object bound, string fixture, int schemaCount)
    {
        var expected = Fixtures.ExpectedFor(fixture).Tensors.ToDictionary(t => t.Key, t => t.Sha256);
        var actual = TensorWalker.Hashes(bound);
        Assert.Equal(schemaCount, actual.Count);
        foreach (var (key, sha) in actual)
        {
            Assert.True(expected.ContainsKey(key), $"bound tensor {key} is not in {fixture}");
            Assert.Equal(expected[key], sha);
        }
    }
}
