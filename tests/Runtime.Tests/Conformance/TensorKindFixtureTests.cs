using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Conformance;

/// <summary>
/// tests/fixtures/kinds: conj/neg views, meta tensors, attributed tensors, the pre-0.4 form, shared empty storages,
/// lone surrogates and the newest dtypes read exactly as PyTorch returns them (SHA-256 of the values with the view
/// bits applied), in every memory mode.
/// </summary>
public class TensorKindFixtureTests
{
    private static readonly string[] Kinds =
    [
        "kinds/conj_views.pth", "kinds/conj_views_torch2.pth", "kinds/meta.pth", "kinds/from_type.pth",
        "kinds/legacy_set_state.pth", "kinds/empty_shared_storage.pth", "kinds/surrogates.pth",
        "kinds/new_dtypes_torch2.pth", "kinds/every_dtype.safetensors",
    ];

    public static TheoryData<string, TensorMemory> EveryKindInEveryMemoryMode()
    {
        var data = new TheoryData<string, TensorMemory>();
        foreach (var name in Kinds)
        {
            foreach (var memory in Enum.GetValues<TensorMemory>())
            {
                data.Add(name, memory);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryKindInEveryMemoryMode))]
    public void Tensors_match_what_PyTorch_returns(string name, TensorMemory memory)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf(name + ".expected.json")));
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), new LoadOptions { Memory = memory });
        var expected = doc.RootElement.GetProperty("tensors").EnumerateArray().ToList();

        Assert.Equal(expected.Select(e => e.GetProperty("key").GetString()), checkpoint.Tensors.Keys);
        foreach (var want in expected)
        {
            string key = want.GetProperty("key").GetString()!;
            var info = checkpoint.Tensors[key];
            Assert.Equal(want.GetProperty("dtype").GetString(), info.DType.Name());
            Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), info.Shape);
            Assert.Equal(want.GetProperty("strides").EnumerateArray().Select(x => x.GetInt64()), info.Strides);
            Assert.Equal(want.GetProperty("storage_offset").GetInt64(), info.StorageOffset);
            Assert.Equal(want.GetProperty("is_parameter").GetBoolean(), info.IsParameter);
            Assert.Equal(want.GetProperty("conj").GetBoolean(), info.IsConjugate);
            Assert.Equal(want.GetProperty("neg").GetBoolean(), info.IsNegative);
            Assert.Equal(want.GetProperty("meta").GetBoolean(), info.IsMeta);
            if (info.IsMeta)
            {
                var e = Assert.Throws<CheckpointFormatException>(() => checkpoint.ReadBytes(key));
                Assert.Contains($"'{key}' is a meta tensor: it has a shape and dtype but no data", e.Message);
            }
            else
            {
                Assert.Equal(want.GetProperty("sha256").GetString(), CheckpointAssert.Sha256(checkpoint, key));
            }
        }
    }

    [Fact]
    public void A_conjugate_view_reads_as_PyTorch_2_resolves_it()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/conj_views_torch2.pth"));

        var z = checkpoint.Read<Complex64>("z").ToArray();
        var conj = checkpoint.Read<Complex64>("conj").ToArray();
        var imag = checkpoint.Read<float>("imag_of_conj").ToArray();

        Assert.Equal(new Complex64(1, -1.5f), z[0]);                     // complex(re, -2 re + 0.5), re = 1
        Assert.Equal(z.Select(c => new Complex64(c.Real, -c.Imaginary)), conj);
        Assert.Equal(new[] { -(-2 * 20f + 0.5f), -(-2 * 21f + 0.5f) }, imag[..2]); // imag of conj: -(im)
    }

    [Fact]
    public void Torch_1_13_drops_the_view_bits_so_the_stored_values_come_back()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/conj_views.pth"));

        Assert.False(checkpoint.Tensors["conj"].IsConjugate);
        Assert.Equal(checkpoint.Read<Complex64>("z").ToArray(), checkpoint.Read<Complex64>("conj").ToArray());
    }

    [Fact]
    public void CopyTo_applies_the_view_bits_too()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/conj_views_torch2.pth"));
        var part = new float[3];

        checkpoint.CopyTo("neg_float", 0, part.AsSpan());

        Assert.Equal(new[] { -1.5f, 0f, float.NegativeInfinity }, part);
        Assert.True(float.IsPositive(part[1])); // -(-0.0) is +0.0
    }

    [Fact]
    public void A_meta_tensor_lists_its_dtype_and_shape_but_has_no_data()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/meta.pth"));
        var weight = checkpoint.Tensors["weight"];

        Assert.True(weight.IsMeta);
        Assert.Equal(DType.Float32, weight.DType);
        Assert.Equal(new long[] { 3, 4 }, weight.Shape.ToArray());
        Assert.Equal("", weight.StorageKey);
        Assert.Throws<CheckpointFormatException>(() => checkpoint.Read<float>("weight"));
        checkpoint.Preload();
        Assert.Equal([1f, 1f], checkpoint.Read<float>("real").ToArray());
    }

    [Fact]
    public void Lone_surrogates_read_as_the_UTF16_code_units_Python_holds()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/surrogates.pth"));

        Assert.Equal("a\ud800b", checkpoint.Values["lone"]);
        Assert.Equal("\udfff", checkpoint.Values["low"]);
        Assert.Equal("x\ud83d\ude00", checkpoint.Values["pair"]);
    }

    [Fact]
    public void An_empty_storage_saved_as_two_dtypes_reads_as_the_first_like_torch_load()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/empty_shared_storage.pth"));

        Assert.Equal(DType.Float32, checkpoint.Tensors["b"].DType);
        Assert.Empty(checkpoint.Read<float>("b").ToArray());
    }

    [Fact]
    public void Every_bit_pattern_of_the_new_float8_formats_reads_through_a_pth()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/new_dtypes_torch2.pth"));

        var fnuz = checkpoint.Read<Float8E4M3FNUZ>("float8_e4m3fnuz").ToArray();
        var e8m0 = checkpoint.Read<Float8E8M0FNU>("float8_e8m0fnu").ToArray();
        var chalf = checkpoint.Read<Complex32>("complex32").ToArray();

        Assert.Equal(Enumerable.Range(0, 256).Select(b => (byte)b), fnuz.Select(f => f.Bits));
        Assert.True(float.IsNaN((float)fnuz[0x80]));
        Assert.Equal(1f, (float)e8m0[127]);
        Assert.Equal(new Complex64(65504f, -0f), (Complex64)chalf[2]);
    }

    [Fact]
    public void Safetensors_F4_pairs_and_F6_groups_decode_low_bits_first()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/every_dtype.safetensors"));

        var f4 = checkpoint.Read<Float4E2M1FNx2>("f4").ToArray();
        var f6 = checkpoint.Read<Float6E3M2x4>("f6_e3m2").ToArray();

        Assert.Equal(new long[] { 16, 16 }, checkpoint.Tensors["f4"].Shape.ToArray());   // [16, 32] float4 values = [16, 16] pairs
        Assert.Equal((0.5f, 6f), (f4[0x71].First, f4[0x71].Second)); // byte 0x71: low nibble 1 (0.5), high 7 (6)
        // bytes FF 0F 81 = word 0x810FFF: codes 0x3F (-28), 0x3F (-28), 0x10 (exponent 4: 2^(4-3) = 2), 0x20 (-0.0)
        Assert.Equal(new[] { -28f, -28f, 2f, -0f }, new[] { f6[0][0], f6[0][1], f6[0][2], f6[0][3] });
    }
}
