using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using StateDict.Tests.Support;
using StateDict.Tests.Writing;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>
/// Sparse and quantized tensors StateDict wrote, loaded by real PyTorch (<see cref="TorchLane"/>): components, to_dense()
/// and dequantize() equal to what torch recorded for the fixtures, and torch.save of what it loaded gives our file back
/// byte for byte. torch 1.13 loads sparse COO/CSR with <c>weights_only=True</c>; quantized tensors only without it (its
/// weights_only unpickler has no <c>_rebuild_qtensor</c>).
/// </summary>
public sealed class TensorKindTorchTests(TensorKindTorchTests.WrittenFiles files) : IClassFixture<TensorKindTorchTests.WrittenFiles>
{
    private const string NoQTensor = "Unsupported class torch._utils._rebuild_qtensor";

    [TorchFact]
    public void PyTorch_loads_sparse_coo_and_csr_with_weights_only_bit_exact()
    {
        var result = files.Result("kinds/sparse.pth");
        Assert.Equal("ok", result["weights_only"]!.GetValue<string>());
        AssertLikeFixture(result, "kinds/sparse.pth");
    }

    [TorchTheory]
    [InlineData("kinds/quantized.pth")]
    [InlineData("kinds/quantized_model.pth")]
    public void PyTorch_loads_quantized_tensors_bit_exact_without_weights_only(string name)
    {
        var result = files.Result(name);
        Assert.Contains(NoQTensor, result["weights_only"]!.GetValue<string>(), StringComparison.Ordinal);
        AssertLikeFixture(result, name);
    }

    [TorchFact]
    public void PyTorch_densifies_sparse_tensors_added_from_user_code_as_we_do()
    {
        var result = files.Result("user-sparse");
        Assert.Equal("ok", result["weights_only"]!.GetValue<string>());
        AssertResaved(result);
        using var ours = Checkpoint.Open(files.PathOf("user-sparse"));
        var sparse = result["kinds"]!["sparse"]!.AsArray();
        Assert.Equal(ours.SparseTensors.Keys, sparse.Select(s => s!["key"]!.GetValue<string>()));
        foreach (var s in sparse)
        {
            string key = s!["key"]!.GetValue<string>();
            Assert.Equal(ours.SparseTensors[key].Layout.Name(), s["layout"]!.GetValue<string>());
            Assert.True(Hash(ours.ReadSparse<float>(key).ToDense()) == s["dense_sha256"]!.GetValue<string>(), $"{key}: torch's to_dense differs");
        }
    }

    [TorchFact]
    public void PyTorch_dequantizes_quantized_tensors_added_from_user_code_as_we_do()
    {
        var result = files.Result("user-quantized");
        Assert.Contains(NoQTensor, result["weights_only"]!.GetValue<string>(), StringComparison.Ordinal);
        AssertResaved(result);
        using var ours = Checkpoint.Open(files.PathOf("user-quantized"));
        var quantized = result["kinds"]!["quantized"]!.AsArray();
        Assert.Equal(ours.QuantizedTensors.Keys, quantized.Select(q => q!["key"]!.GetValue<string>()));
        foreach (var q in quantized)
        {
            string key = q!["key"]!.GetValue<string>();
            var info = ours.QuantizedTensors[key];
            Assert.Equal(info.DType.Name(), q["dtype"]!.GetValue<string>());
            Assert.Equal(info.Scheme.Name(), q["qscheme"]!.GetValue<string>());
            Assert.True(Hash(ours.ReadQuantized(key).Dequantize()) == q["dequantized_sha256"]!.GetValue<string>(), $"{key}: torch's dequantize differs");
        }
    }

    /// <summary>What torch loaded from our copy of a fixture is what it recorded for the fixture itself.</summary>
    private static void AssertLikeFixture(JsonNode result, string name)
    {
        AssertResaved(result);
        var expected = JsonNode.Parse(File.ReadAllText(Fixtures.PathOf(name) + ".expected.json"))!;
        var kinds = result["kinds"]!;
        foreach (string part in new[] { "tensors", "sparse", "quantized", "values" })
        {
            Assert.True(JsonNode.DeepEquals(expected[part], kinds[part]), $"{name}: {part} differ: {kinds[part]?.ToJsonString()[..Math.Min(600, kinds[part]!.ToJsonString().Length)]}");
        }
    }

    private static void AssertResaved(JsonNode result)
    {
        var problems = result["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.True(problems.Count == 0, string.Join("; ", problems));
        Assert.True(result["resave_identical"]!.GetValue<bool>(), "torch.save of what torch loaded is not our file");
    }

    private static string Hash<T>(TensorView<T> view) where T : unmanaged =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(view.Span)));

    /// <summary>Writes the files once and has the python script verify them all in one run.</summary>
    public sealed class WrittenFiles : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("statedict-kinds-torch-").FullName;
        private readonly Dictionary<string, string> _paths = [];
        private readonly Lazy<Dictionary<string, JsonNode>> _results;

        public WrittenFiles() => _results = new Lazy<Dictionary<string, JsonNode>>(WriteAndVerify);

        public JsonNode Result(string name) => _results.Value[name];

        public string PathOf(string name) => _paths[name];

        public void Dispose() => Directory.Delete(_directory, recursive: true);

        private Dictionary<string, JsonNode> WriteAndVerify()
        {
            foreach (string name in new[] { "kinds/sparse.pth", "kinds/quantized.pth", "kinds/quantized_model.pth" })
            {
                string path = Path.Combine(_directory, Path.GetFileName(name));
                using var source = Checkpoint.Open(Fixtures.PathOf(name));
                source.Save(path);
                _paths[name] = path;
            }
            // torch 1.13 reads neither CSC/BSR/BSC nor the coalesced flag: those are checked by reading back only.
            var sparse = TensorKindWritingTests.UserKinds();
            var quantized = TensorKindWritingTests.UserKinds();
            foreach (string key in sparse.Keys.ToList())
            {
                (key is "coo" or "csr" ? quantized : sparse).Remove(key);
                if (key is "hybrid" or "bsc")
                {
                    quantized.Remove(key);
                }
            }
            sparse.Save(_paths["user-sparse"] = Path.Combine(_directory, "user-sparse.pth"));
            quantized.Save(_paths["user-quantized"] = Path.Combine(_directory, "user-quantized.pth"));

            string manifest = Path.Combine(_directory, "manifest.json");
            File.WriteAllText(manifest, JsonSerializer.Serialize(new { files = _paths.Values.Select(p => new { path = p, format = "pth", kinds = true }) }));
            var (code, stdout, stderr) = TorchLane.Run(TimeSpan.FromMinutes(5), TorchLane.Script, manifest);
            Assert.True(code == 0, $"verify_with_torch.py exited {code}: {stderr}");
            var byPath = JsonNode.Parse(stdout)!["files"]!.AsArray().ToDictionary(f => f!["path"]!.GetValue<string>(), f => f!);
            return _paths.ToDictionary(p => p.Key, p => byPath[p.Value]);
        }
    }
}
