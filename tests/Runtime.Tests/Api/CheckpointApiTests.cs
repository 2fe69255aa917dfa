using System.Numerics.Tensors;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>The public surface of <see cref="Checkpoint"/>, <see cref="TensorView{T}"/> and <see cref="LoadOptions"/>, on real fixtures.</summary>
public class CheckpointApiTests
{
    private static readonly string[] ModelKeys = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

    private static Checkpoint Open(string fixture, LoadOptions? options = null) => Checkpoint.Open(Fixtures.PathOf(fixture), options);

    // ---- Values ----

    [Fact]
    public void Values_are_typed_python_leaves()
    {
        using var checkpoint = Open("checkpoint.pth");

        Assert.Equal(7L, Assert.IsType<long>(checkpoint.Values["epoch"]));
        Assert.Equal(0.91, Assert.IsType<double>(checkpoint.Values["best_acc"]));
        Assert.Equal("mlp", Assert.IsType<string>(checkpoint.Values["config.name"]));
        Assert.False(Assert.IsType<bool>(checkpoint.Values["optimizer.param_groups.0.nesterov"]));
        Assert.Equal(0.1, Assert.IsType<double>(checkpoint.Values["config.lr"]));
        Assert.Equal(32L, Assert.IsType<long>(checkpoint.Values["config.layers.1"]));
    }

    [Fact]
    public void None_is_a_present_key_with_a_null_value()
    {
        using var checkpoint = Open("checkpoint.pth");

        Assert.True(checkpoint.Values.ContainsKey("optimizer.param_groups.0.foreach"));
        Assert.Null(checkpoint.Values["optimizer.param_groups.0.foreach"]);
    }

    [Fact]
    public void Values_keep_file_order_and_exclude_tensors()
    {
        using var checkpoint = Open("checkpoint.pth");

        Assert.Equal(Fixtures.ExpectedFor("checkpoint.pth").Values.Select(v => v.Key), checkpoint.Values.Keys);
        Assert.DoesNotContain(checkpoint.Values.Keys, checkpoint.Tensors.ContainsKey);
    }

    [Fact]
    public void A_state_dict_has_no_values()
    {
        using var checkpoint = Open("mlp.pth");

        Assert.Empty(checkpoint.Values);
    }

    // ---- Key selection ----

    [Fact]
    public void Prefix_exposes_exactly_the_model_tensors_without_the_prefix()
    {
        using var checkpoint = Open("checkpoint.pth", new LoadOptions { Prefix = "model." });

        Assert.Equal(ModelKeys, checkpoint.Tensors.Keys);
        Assert.Empty(checkpoint.Values);
        Assert.All(checkpoint.Tensors, pair => Assert.Equal(pair.Key, pair.Value.Key));
    }

    [Fact]
    public void Prefix_selected_tensors_have_the_same_bytes_as_the_unprefixed_read()
    {
        using var whole = Open("checkpoint.pth");
        using var model = Open("checkpoint.pth", new LoadOptions { Prefix = "model." });

        foreach (var key in ModelKeys)
        {
            Assert.Equal(whole.ReadBytes("model." + key).ToArray(), model.ReadBytes(key).ToArray());
            Assert.Equal<long>(whole.Tensors["model." + key].Shape, model.Read<float>(key).Shape);
        }
    }

    [Fact]
    public void Prefix_selection_hides_the_other_subtrees()
    {
        using var checkpoint = Open("checkpoint.pth", new LoadOptions { Prefix = "model." });

        Assert.DoesNotContain(checkpoint.Tensors.Keys, k => k.Contains("momentum_buffer", StringComparison.Ordinal));
        Assert.Throws<KeyNotFoundException>(() => checkpoint.Read<float>("model.fc1.weight"));
        Assert.Throws<KeyNotFoundException>(() => checkpoint.Read<float>("optimizer.state.0.momentum_buffer"));
    }

    [Fact]
    public void Prefix_also_selects_values()
    {
        using var checkpoint = Open("checkpoint.pth", new LoadOptions { Prefix = "config." });

        Assert.Empty(checkpoint.Tensors);
        Assert.Equal(["lr", "layers.0", "layers.1", "layers.2", "name"], checkpoint.Values.Keys);
        Assert.Equal("mlp", checkpoint.Values["name"]);
    }

    [Fact]
    public void StripPrefix_removes_the_DataParallel_module_prefix()
    {
        using var checkpoint = Open("dataparallel.pth", new LoadOptions { StripPrefix = "module." });
        using var raw = Open("dataparallel.pth");

        Assert.Equal(ModelKeys, checkpoint.Tensors.Keys);
        foreach (var key in ModelKeys)
        {
            Assert.Equal(raw.ReadBytes("module." + key).ToArray(), checkpoint.ReadBytes(key).ToArray());
        }
    }

    [Fact]
    public void StripPrefix_leaves_keys_without_it_unchanged()
    {
        using var checkpoint = Open("mlp.pth", new LoadOptions { StripPrefix = "module." });

        Assert.Equal(ModelKeys, checkpoint.Tensors.Keys);
    }

    [Fact]
    public void A_prefix_matching_nothing_throws_listing_the_top_level_prefixes()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Open("checkpoint.pth", new LoadOptions { Prefix = "modle." }));

        Assert.Contains("modle.", e.Message);
        Assert.Contains("model.", e.Message);
        Assert.Contains("optimizer.", e.Message);
        Assert.Contains("config.", e.Message);
        Assert.Contains(Fixtures.PathOf("checkpoint.pth"), e.Message);
    }

    // ---- Reading tensors ----

    [Fact]
    public void Reading_a_misspelt_key_throws_suggesting_the_closest_key()
    {
        using var checkpoint = Open("mlp.pth");

        var e = Assert.Throws<KeyNotFoundException>(() => checkpoint.Read<float>("fc1.weigth"));

        Assert.Contains("'fc1.weigth'", e.Message);
        Assert.Contains("did you mean 'fc1.weight'", e.Message);
    }

    [Fact]
    public void Reading_an_unrelated_missing_key_throws_without_a_suggestion()
    {
        using var checkpoint = Open("mlp.pth");

        var e = Assert.Throws<KeyNotFoundException>(() => checkpoint.Read<float>("transformer.wte.weight"));

        Assert.Contains("'transformer.wte.weight'", e.Message);
        Assert.DoesNotContain("did you mean", e.Message);
    }

    [Fact]
    public void Reading_a_plain_value_as_a_tensor_points_to_Values()
    {
        using var checkpoint = Open("checkpoint.pth");

        var e = Assert.Throws<KeyNotFoundException>(() => checkpoint.Read<long>("epoch"));

        Assert.Contains("Values", e.Message);
    }

    [Fact]
    public void Reading_after_Dispose_throws_ObjectDisposedException()
    {
        var checkpoint = Open("mlp.pth");
        var info = checkpoint.Tensors["fc1.weight"];
        checkpoint.Dispose();

        Assert.Throws<ObjectDisposedException>(() => checkpoint.Read<float>("fc1.weight"));
        Assert.Throws<ObjectDisposedException>(() => checkpoint.Read<float>(info));
        Assert.Throws<ObjectDisposedException>(() => checkpoint.ReadBytes("fc1.weight"));
    }

    [Fact]
    public void Dispose_twice_is_harmless_and_views_read_before_stay_valid()
    {
        var checkpoint = Open("mlp.pth");
        var bias = checkpoint.Read<float>("fc2.bias");
        var before = bias.ToArray();

        checkpoint.Dispose();
        checkpoint.Dispose();

        Assert.Equal(before, bias.ToArray());
        Assert.Equal(4, bias.Length);
    }

    [Fact]
    public void Read_by_TensorInfo_equals_read_by_key()
    {
        using var checkpoint = Open("mlp.pth");

        var byInfo = checkpoint.Read<float>(checkpoint.Tensors["fc2.weight"]);
        var byKey = checkpoint.Read<float>("fc2.weight");

        Assert.Equal(byKey.ToArray(), byInfo.ToArray());
        Assert.Same(checkpoint.Tensors["fc2.weight"], byInfo.Info);
    }

    [Fact]
    public void A_view_carries_its_key_dtype_shape_and_rank()
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.weight");

        Assert.Equal("fc1.weight", view.Key);
        Assert.Equal(DType.Float32, view.DType);
        Assert.Equal<long>([32L, 16L], view.Shape);
        Assert.Equal(2, view.Rank);
        Assert.Equal(512, view.Length);
        Assert.Equal(512, view.Span.Length);
        Assert.Equal(512, view.Memory.Length);
        Assert.Equal("fc1.weight: float32 [32, 16]", view.ToString());
    }

    [Fact]
    public void TensorInfo_reports_the_metadata_without_reading_bytes()
    {
        using var checkpoint = Open("mlp.pth");
        var info = checkpoint.Tensors["fc1.weight"];

        Assert.Equal<long>([16L, 1L], info.Strides);
        Assert.Equal(0, info.StorageOffset);
        Assert.Equal(512, info.ElementCount);
        Assert.Equal(2048, info.ByteLength);
        Assert.True(info.IsContiguous);
        Assert.False(string.IsNullOrEmpty(info.StorageKey));
    }

    [Fact]
    public void Tensors_keep_file_order()
    {
        using var checkpoint = Open("checkpoint.pth");

        Assert.Equal(Fixtures.ExpectedFor("checkpoint.pth").Tensors.Select(t => t.Key), checkpoint.Tensors.Keys);
    }

    [Fact]
    public void IsParameter_is_true_for_tensors_pickled_as_nn_Parameter()
    {
        using var checkpoint = Open("parameters.pth");

        Assert.Equal(4, checkpoint.Tensors.Count);
        Assert.All(checkpoint.Tensors.Values, info => Assert.True(info.IsParameter));
    }

    [Fact]
    public void IsParameter_is_false_for_plain_tensors()
    {
        using var checkpoint = Open("mlp.pth");

        Assert.All(checkpoint.Tensors.Values, info => Assert.False(info.IsParameter));
    }

    [Fact]
    public void Parameters_read_like_the_same_weights_saved_as_tensors()
    {
        using var parameters = Open("parameters.pth");
        using var plain = Open("protocol4.pth");

        foreach (var key in ModelKeys)
        {
            Assert.Equal(plain.Read<float>(key).ToArray(), parameters.Read<float>(key).ToArray());
        }
    }

    // ---- System.Numerics.Tensors ----

    [Fact]
    public void AsTensorSpan_has_the_shape_and_the_elements()
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.weight");

        ReadOnlyTensorSpan<float> span = view.AsTensorSpan();

        Assert.Equal([(nint)32, 16], span.Lengths.ToArray());
        Assert.Equal(512, span.FlattenedLength);
        // From torch.load: mlp.pth["fc1.weight"][0, 0], [2, 5] and [31, 15].
        Assert.Equal(-0.0018717050552368164f, span[0, 0]);
        Assert.Equal(0.21489951014518738f, span[2, 5]);
        Assert.Equal(0.15456533432006836f, span[31, 15]);
        Assert.Equal(view[31, 15], span[31, 15]);
    }

    [Fact]
    public void ToTensor_copies_with_the_shape_and_the_elements()
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.weight");

        Tensor<float> tensor = view.ToTensor();

        Assert.Equal([(nint)32, 16], tensor.Lengths.ToArray());
        Assert.Equal(0.21489951014518738f, tensor[2, 5]);
        Assert.Equal(view[17, 3], tensor[17, 3]);
    }

    [Fact]
    public void AsTensorSpan_of_a_strided_view_is_row_major()
    {
        using var checkpoint = Open("views.pth");
        var transposed = checkpoint.Read<float>("transposed");

        var span = transposed.AsTensorSpan();

        Assert.Equal([(nint)6, 4], span.Lengths.ToArray());
        Assert.Equal(13f, span[1, 2]);   // base[2, 1]
        Assert.Equal(23f, transposed.ToTensor()[5, 3]);
    }

    [Fact]
    public void AsTensorSpan_of_a_0_d_scalar_is_a_one_element_vector()
    {
        using var checkpoint = Open("views.pth");
        var scalar = checkpoint.Read<float>("scalar");

        Assert.Equal([(nint)1], scalar.AsTensorSpan().Lengths.ToArray());
        Assert.Equal(3.25f, scalar.AsTensorSpan()[0]);
        Assert.Equal([(nint)1], scalar.ToTensor().Lengths.ToArray());
    }

    [Fact]
    public void AsTensorSpan_of_an_empty_tensor_keeps_its_zero_dimension()
    {
        using var checkpoint = Open("views.pth");
        var empty = checkpoint.Read<float>("empty");

        Assert.Equal([(nint)0, 4], empty.AsTensorSpan().Lengths.ToArray());
        Assert.Equal(0, empty.AsTensorSpan().FlattenedLength);
        Assert.Equal(0, empty.ToTensor().FlattenedLength);
    }

    // ---- Indexer ----

    [Theory]
    [InlineData(32, 0)]
    [InlineData(0, 16)]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    public void Indexing_outside_a_dimension_throws_ArgumentOutOfRangeException(long i, long j)
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.weight");

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => view[i, j]);

        Assert.Contains("fc1.weight", e.Message);
    }

    [Fact]
    public void Indexing_with_too_few_coordinates_throws_ArgumentException()
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.weight");

        var e = Assert.Throws<ArgumentException>(() => view[5]);

        Assert.Contains("2 dimensions", e.Message);
    }

    [Fact]
    public void Indexing_with_too_many_coordinates_throws_ArgumentException()
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.bias");

        Assert.Throws<ArgumentException>(() => view[0, 0]);
    }

    [Fact]
    public void Indexing_a_scalar_with_a_coordinate_throws_ArgumentException()
    {
        using var checkpoint = Open("views.pth");
        var scalar = checkpoint.Read<float>("scalar");

        Assert.Throws<ArgumentException>(() => scalar[0]);
    }

    [Fact]
    public void The_last_element_is_reachable_by_index()
    {
        using var checkpoint = Open("mlp.pth");
        var view = checkpoint.Read<float>("fc1.weight");

        Assert.Equal(view.Span[^1], view[31, 15]);
        Assert.Equal(view.Span[(2 * 16) + 5], view[2, 5]);
    }

    // ---- Format and opening ----

    [Theory]
    [InlineData("mlp.pth", CheckpointFormat.Zip)]
    [InlineData("views.pth", CheckpointFormat.Zip)]
    [InlineData("protocol4.pth", CheckpointFormat.Zip)]
    [InlineData("legacy_mlp.pth", CheckpointFormat.Legacy)]
    [InlineData("legacy_dtypes.pth", CheckpointFormat.Legacy)]
    [InlineData("legacy_views.pth", CheckpointFormat.Legacy)]
    public void Format_tells_zip_from_legacy(string fixture, CheckpointFormat format)
    {
        using var checkpoint = Open(fixture);

        Assert.Equal(format, checkpoint.Format);
    }

    [Fact]
    public void Legacy_and_zip_files_of_the_same_model_read_the_same()
    {
        using var zip = Open("mlp.pth");
        using var legacy = Open("legacy_mlp.pth");

        Assert.Equal(zip.Tensors.Keys, legacy.Tensors.Keys);
        foreach (var key in ModelKeys)
        {
            Assert.Equal(zip.Read<float>(key).ToArray(), legacy.Read<float>(key).ToArray());
        }
    }

    [Fact]
    public void Path_is_the_path_it_was_opened_with()
    {
        string path = Fixtures.PathOf("mlp.pth");
        using var checkpoint = Checkpoint.Open(path);

        Assert.Equal(path, checkpoint.Path);
    }

    [Fact]
    public void Opening_a_missing_file_throws_a_CheckpointException_naming_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-missing-{Guid.NewGuid():N}.pth");

        var e = Assert.ThrowsAny<CheckpointException>(() => Checkpoint.Open(path));

        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Opening_an_empty_path_throws_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Checkpoint.Open(""));
    }

    [Fact]
    public void Opening_a_null_path_throws_ArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Checkpoint.Open((string)null!));
    }
}
