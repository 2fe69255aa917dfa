using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>
/// Tensors that share one storage, or are strided, offset, expanded, 0-d or empty views of it, read as PyTorch sees them
/// (views.pth and its legacy-format twin). <c>base</c> is <c>torch.arange(24.).reshape(4, 6)</c>; the other views are
/// checked element by element against it, not only by hash.
/// </summary>
public class ViewTests
{
    public static TheoryData<string> ViewFixtures() => ["views.pth", "legacy_views.pth"];

    private static Checkpoint Open(string fixture) => Checkpoint.Open(Fixtures.PathOf(fixture));

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Base_holds_0_to_23_row_major(string fixture)
    {
        using var checkpoint = Open(fixture);
        var view = checkpoint.Read<float>("base");

        Assert.Equal<long>([4L, 6L], view.Shape);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (float)i), view.ToArray());
        Assert.Equal(13f, view[2, 1]);
        ApiAssert.MatchesExpected(fixture, view);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Tied_shares_the_same_buffer_as_base(string fixture)
    {
        using var checkpoint = Open(fixture);
        var @base = ApiAssert.Segment(checkpoint.Read<float>("base"));
        var tied = ApiAssert.Segment(checkpoint.Read<float>("tied"));

        Assert.Same(@base.Array, tied.Array);
        Assert.Equal(@base.Offset, tied.Offset);
        Assert.Equal(24, tied.Count);
        Assert.Equal(checkpoint.Tensors["base"].StorageKey, checkpoint.Tensors["tied"].StorageKey);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Reading_the_same_key_twice_shares_one_buffer(string fixture)
    {
        using var checkpoint = Open(fixture);

        var first = ApiAssert.Segment(checkpoint.Read<float>("window"));
        var second = ApiAssert.Segment(checkpoint.Read<float>("window"));

        Assert.Same(first.Array, second.Array);
        Assert.Equal(first.Offset, second.Offset);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Transposed_element_i_j_is_base_element_j_i(string fixture)
    {
        using var checkpoint = Open(fixture);
        var @base = checkpoint.Read<float>("base");
        var transposed = checkpoint.Read<float>("transposed");

        Assert.Equal<long>([6L, 4L], transposed.Shape);
        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(@base[j, i], transposed[i, j]);
            }
        }
        ApiAssert.MatchesExpected(fixture, transposed);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Transposed_is_materialized_row_major_not_aliasing_base(string fixture)
    {
        using var checkpoint = Open(fixture);
        var @base = ApiAssert.Segment(checkpoint.Read<float>("base"));
        var transposed = checkpoint.Read<float>("transposed");

        Assert.NotSame(@base.Array, ApiAssert.Segment(transposed).Array);
        Assert.Equal([0f, 6f, 12f, 18f, 1f, 7f], transposed.Span[..6].ToArray());
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Row_slice_is_rows_1_and_2_of_base_sharing_its_buffer_at_offset_6(string fixture)
    {
        using var checkpoint = Open(fixture);
        var baseView = checkpoint.Read<float>("base");
        var rowSlice = checkpoint.Read<float>("row_slice");

        Assert.Equal<long>([2L, 6L], rowSlice.Shape);
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 6; j++)
            {
                Assert.Equal(baseView[i + 1, j], rowSlice[i, j]);
            }
        }
        var @base = ApiAssert.Segment(baseView);
        var slice = ApiAssert.Segment(rowSlice);
        Assert.Same(@base.Array, slice.Array);
        Assert.Equal(@base.Offset + 6, slice.Offset);
        Assert.Equal(12, slice.Count);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Col_slice_is_columns_2_to_4_of_base(string fixture)
    {
        using var checkpoint = Open(fixture);
        var @base = checkpoint.Read<float>("base");
        var colSlice = checkpoint.Read<float>("col_slice");

        Assert.Equal<long>([4L, 3L], colSlice.Shape);
        Assert.Equal(2, checkpoint.Tensors["col_slice"].StorageOffset);
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(@base[i, j + 2], colSlice[i, j]);
            }
        }
        ApiAssert.MatchesExpected(fixture, colSlice);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Every_other_is_the_even_columns_of_base(string fixture)
    {
        using var checkpoint = Open(fixture);
        var @base = checkpoint.Read<float>("base");
        var everyOther = checkpoint.Read<float>("every_other");

        Assert.Equal<long>([4L, 3L], everyOther.Shape);
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(@base[i, 2 * j], everyOther[i, j]);
            }
        }
        ApiAssert.MatchesExpected(fixture, everyOther);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Expanded_repeats_its_one_stored_column_through_stride_0(string fixture)
    {
        using var checkpoint = Open(fixture);
        var info = checkpoint.Tensors["expanded"];
        var expanded = checkpoint.Read<float>("expanded");

        Assert.Equal<long>([1L, 0L], info.Strides);
        Assert.Equal<long>([3L, 4L], expanded.Shape);
        Assert.Equal(12, expanded.Length);
        Assert.All(expanded.ToArray(), x => Assert.Equal(1f, x));
        for (int i = 0; i < 3; i++)
        {
            for (int j = 1; j < 4; j++)
            {
                Assert.Equal(expanded[i, 0], expanded[i, j]);
            }
        }
        ApiAssert.MatchesExpected(fixture, expanded);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Window_is_ten_elements_at_offset_10_of_a_1000_element_storage(string fixture)
    {
        using var checkpoint = Open(fixture);
        var window = checkpoint.Read<float>("window");

        Assert.Equal(10, checkpoint.Tensors["window"].StorageOffset);
        Assert.Equal<long>([10L], window.Shape);
        var segment = ApiAssert.Segment(window);
        Assert.Equal(1000, segment.Array!.Length);
        Assert.Equal(10, segment.Offset);
        Assert.Equal(10, segment.Count);
        // From torch.load: views.pth["window"][0] and [9].
        Assert.Equal(0.0015595387667417526f, window[0]);
        Assert.Equal(0.27604880928993225f, window[9]);
        ApiAssert.MatchesExpected(fixture, window);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Scalar_is_0_d_with_one_element(string fixture)
    {
        using var checkpoint = Open(fixture);
        var scalar = checkpoint.Read<float>("scalar");

        Assert.Empty(scalar.Shape);
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(1, scalar.Length);
        Assert.Equal(1, checkpoint.Tensors["scalar"].ElementCount);
        Assert.Equal(3.25f, scalar.Span[0]);
        Assert.Equal(3.25f, scalar[ReadOnlySpan<long>.Empty]);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Empty_has_shape_0_by_4_and_no_elements(string fixture)
    {
        using var checkpoint = Open(fixture);
        var empty = checkpoint.Read<float>("empty");

        Assert.Equal<long>([0L, 4L], empty.Shape);
        Assert.Equal(0, empty.Length);
        Assert.True(empty.Span.IsEmpty);
        Assert.Empty(empty.ToArray());
        Assert.Equal(0, checkpoint.Tensors["empty"].ElementCount);
        Assert.Equal(0, checkpoint.Tensors["empty"].ByteLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => empty[0, 0]);
    }

    /// <summary>
    /// <c>permuted = cube.permute(2, 0, 1)</c> with <c>cube</c> a [2, 3, 4] tensor, so <c>permuted[i, j, k] == cube[j, k, i]</c>.
    /// <c>cube</c> is not in the file; its 24 values below come from
    /// <c>torch.load("views.pth")["permuted"].permute(1, 2, 0).contiguous().flatten()</c>.
    /// </summary>
    private static readonly float[] Cube =
    [
        -0.4915008246898651f, 0.4884549677371979f, 1.0088313817977905f, 0.010931403376162052f,
        -0.6031203269958496f, 0.1418437361717224f, 1.3750593662261963f, -0.4807906448841095f,
        -0.7984724044799805f, 1.0640780925750732f, 1.0205013751983643f, 0.08937885612249374f,
        -0.4878898859024048f, 1.0724982023239136f, -0.23406752943992615f, -1.182176947593689f,
        0.2625004053115845f, 0.4826255440711975f, -0.7855721712112427f, 0.7436665296554565f,
        -0.9883825182914734f, -0.027929456904530525f, -0.034283027052879333f, -1.5015588998794556f,
    ];

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Permuted_element_i_j_k_is_cube_element_j_k_i(string fixture)
    {
        using var checkpoint = Open(fixture);
        var permuted = checkpoint.Read<float>("permuted");

        Assert.Equal<long>([4L, 2L, 3L], permuted.Shape);
        Assert.Equal<long>([1L, 12L, 4L], checkpoint.Tensors["permuted"].Strides);
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 2; j++)
            {
                for (int k = 0; k < 3; k++)
                {
                    Assert.Equal(Cube[(j * 12) + (k * 4) + i], permuted[i, j, k]);
                }
            }
        }
        ApiAssert.MatchesExpected(fixture, permuted);
    }

    [Theory]
    [InlineData("views.pth", "base", true)]
    [InlineData("views.pth", "tied", true)]
    [InlineData("views.pth", "transposed", false)]
    [InlineData("views.pth", "row_slice", true)]
    [InlineData("views.pth", "col_slice", false)]
    [InlineData("views.pth", "every_other", false)]
    [InlineData("views.pth", "expanded", false)]
    [InlineData("views.pth", "window", true)]
    [InlineData("views.pth", "scalar", true)]
    [InlineData("views.pth", "empty", true)]
    [InlineData("views.pth", "permuted", false)]
    [InlineData("legacy_views.pth", "base", true)]
    [InlineData("legacy_views.pth", "transposed", false)]
    [InlineData("legacy_views.pth", "row_slice", true)]
    [InlineData("legacy_views.pth", "col_slice", false)]
    [InlineData("legacy_views.pth", "expanded", false)]
    [InlineData("legacy_views.pth", "window", true)]
    [InlineData("legacy_views.pth", "permuted", false)]
    public void IsContiguous_agrees_with_torch_is_contiguous(string fixture, string key, bool contiguous)
    {
        using var checkpoint = Open(fixture);

        Assert.Equal(contiguous, checkpoint.Tensors[key].IsContiguous);
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void Every_view_matches_its_recorded_sha256(string fixture)
    {
        using var checkpoint = Open(fixture);

        foreach (var key in checkpoint.Tensors.Keys)
        {
            ApiAssert.MatchesExpected(fixture, checkpoint.Read<float>(key));
        }
    }

    [Theory]
    [MemberData(nameof(ViewFixtures))]
    public void ToArray_copies_so_the_shared_buffer_is_untouched(string fixture)
    {
        using var checkpoint = Open(fixture);
        var @base = checkpoint.Read<float>("base");

        var copy = @base.ToArray();
        copy[0] = 99f;

        Assert.Equal(0f, @base[0, 0]);
        Assert.Equal(0f, checkpoint.Read<float>("tied")[0, 0]);
    }
}
