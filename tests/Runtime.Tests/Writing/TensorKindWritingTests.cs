using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Writing;

/// <summary>
/// Writing the tensor kinds of tests/fixtures/kinds: conj/neg views as the plain values they read as, meta tensors as
/// <c>_rebuild_meta_tensor_no_storage</c>, the newest dtypes as torch ≥ 2 writes them (<c>_rebuild_tensor_v3</c> +
/// untyped storage) and in safetensors; read back by StateDict and, where torch 1.13 can load them, by PyTorch.
/// </summary>
public sealed class TensorKindWritingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("statedict-kinds-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static List<JsonElement> ExpectedTensors(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf(name + ".expected.json")));
        return doc.RootElement.GetProperty("tensors").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private string SaveAgain(string fixture, string extension)
    {
        string path = Path.Combine(_folder, Path.GetFileNameWithoutExtension(fixture) + extension);
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(fixture));
        checkpoint.Save(path);
        return path;
    }

    [Theory]
    [InlineData("kinds/conj_views_torch2.pth", ".pth")]
    [InlineData("kinds/new_dtypes_torch2.pth", ".pth")]
    [InlineData("kinds/every_dtype.safetensors", ".safetensors")]
    [InlineData("kinds/legacy_set_state.pth", ".pth")]
    [InlineData("kinds/from_type.pth", ".pth")]
    public void Written_files_read_back_with_the_values_PyTorch_returns(string fixture, string extension)
    {
        string path = SaveAgain(fixture, extension);

        using var written = Checkpoint.Open(path);
        foreach (var want in ExpectedTensors(fixture))
        {
            string key = want.GetProperty("key").GetString()!;
            var info = written.Tensors[key];
            Assert.Equal(want.GetProperty("dtype").GetString(), info.DType.Name());
            Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), info.Shape);
            Assert.False(info.IsConjugate || info.IsNegative, $"{key} was written resolved");
            Assert.Equal(want.GetProperty("sha256").GetString(), CheckpointAssert.Sha256(written, key));
        }
    }

    [Fact]
    public void Meta_tensors_are_written_as_meta_tensors()
    {
        string path = SaveAgain("kinds/meta.pth", ".pth");

        using var written = Checkpoint.Open(path);
        var half = written.Tensors["half"];
        Assert.True(half.IsMeta);
        Assert.Equal(DType.Float16, half.DType);
        Assert.Equal(new long[] { 5, 2 }, half.Shape.ToArray());
        Assert.Equal(new long[] { 1, 5 }, half.Strides.ToArray());
        Assert.True(written.Tensors["param"].IsParameter && written.Tensors["param"].IsMeta);
    }

    [Fact]
    public void Safetensors_cannot_hold_a_meta_tensor_or_complex32()
    {
        using var meta = Checkpoint.Open(Fixtures.PathOf("kinds/meta.pth"));
        using var dtypes = Checkpoint.Open(Fixtures.PathOf("kinds/new_dtypes_torch2.pth"));

        Assert.Contains("meta tensor", Assert.Throws<NotSupportedException>(() => meta.Save(Path.Combine(_folder, "m.safetensors"))).Message);
        Assert.Contains("complex32", Assert.Throws<NotSupportedException>(() => dtypes.Save(Path.Combine(_folder, "d.safetensors"))).Message);
    }

    [Fact]
    public void Float6_has_no_torch_dtype_so_a_pth_refuses_it()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/every_dtype.safetensors"));

        var e = Assert.Throws<NotSupportedException>(() => checkpoint.Save(Path.Combine(_folder, "f6.pth")));
        Assert.Contains("torch has no dtype for float6_", e.Message);
    }

    [Fact]
    public void Strings_with_lone_surrogates_are_written_back_as_Python_pickles_them()
    {
        string path = SaveAgain("kinds/surrogates.pth", ".pth");

        using var written = Checkpoint.Open(path);
        Assert.Equal("a\ud800b", written.Values["lone"]);
        Assert.Equal("\udfff", written.Values["low"]);
        Assert.Equal("x\ud83d\ude00", written.Values["pair"]);
    }

    [TorchFact]
    public void PyTorch_1_13_loads_written_conj_and_meta_tensors_with_weights_only()
    {
        string conj = SaveAgain("kinds/conj_views_torch2.pth", ".pth");
        string meta = SaveAgain("kinds/meta.pth", ".pth");
        const string Script = """
            import hashlib, json, sys, torch
            out = {}
            for path in sys.argv[1:]:
                for key, t in torch.load(path, weights_only=True).items():
                    digest = None if t.is_meta else hashlib.sha256(t.detach().contiguous().numpy().tobytes()).hexdigest()
                    out[key] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "meta": t.is_meta, "sha256": digest}
            print(json.dumps(out))
            """;

        var (exit, stdout, stderr) = TorchLane.Run(TimeSpan.FromMinutes(2), "-c", Script, conj, meta);

        Assert.True(exit == 0, stderr);
        using var loaded = JsonDocument.Parse(stdout);
        foreach (var want in ExpectedTensors("kinds/conj_views_torch2.pth").Concat(ExpectedTensors("kinds/meta.pth")))
        {
            var got = loaded.RootElement.GetProperty(want.GetProperty("key").GetString()!);
            Assert.Equal(want.GetProperty("dtype").GetString(), got.GetProperty("dtype").GetString());
            Assert.Equal(want.GetProperty("meta").GetBoolean(), got.GetProperty("meta").GetBoolean());
            Assert.Equal(want.GetProperty("sha256").ToString(), got.GetProperty("sha256").ToString());
        }
    }
}
