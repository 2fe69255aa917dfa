using System.Text.Json;
using System.Text.Json.Nodes;
using StateDict.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace StateDict.Tests.Writing;

/// <summary>
/// Every readable fixture, written as .pth and .safetensors, then read by real PyTorch
/// (<see cref="TorchLane"/>, <c>verify_with_torch.py</c>): <c>torch.load(weights_only=True)</c> must give exactly the
/// tensors (dtype, shape, strides, offset, parameter-ness, SHA-256) and values PyTorch recorded in expected.json, and
/// <c>torch.save</c> of what it loaded must give our data.pkl and storages byte for byte. Safetensors files are
/// checked against the reference rules and their tensors rebuilt with <c>torch.frombuffer</c>. Skipped when torch is
/// not installed; the python script runs once for all of them.
/// </summary>
public sealed class TorchVerificationTests(TorchVerificationTests.WrittenFiles files, ITestOutputHelper output)
    : IClassFixture<TorchVerificationTests.WrittenFiles>
{
    /// <summary>torch 1.13's weights_only unpickler lacks BINFLOAT: it refuses torch.save's own files with float values.</summary>
    private const string NoBinFloat = "Unsupported operand 71";

    [TorchTheory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void PyTorch_loads_the_pth_with_weights_only_bit_exact(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        var result = files.Result(name, "pth");
        output.WriteLine($"torch {files.TorchVersion}: {result.ToJsonString()}"[..Math.Min(2000, result.ToJsonString().Length)]);
        var missing = expected.Tensors.Select(t => t.DType).Distinct().Where(d => !files.TorchDTypes.Contains(d)).ToList();
        if (missing.Count > 0)
        {
            // Dtypes this torch does not have (uint16, float8… arrived in torch 2.1–2.3): torch must refuse exactly them,
            // and the file without them must verify.
            string refusal = result["weights_only"]!.GetValue<string>();
            Assert.True(missing.Any(refusal.Contains) || refusal.Contains("_rebuild_tensor_v3", StringComparison.Ordinal),
                $"torch {files.TorchVersion} lacks {string.Join(", ", missing)} but refused for another reason: {refusal}");
            result = files.Result(name, "pth-torch-dtypes");
            expected = expected with { Tensors = expected.Tensors.Where(t => !missing.Contains(t.DType)).ToList() };
        }
        AssertLoaded(result, expected, name);
    }

    [TorchFact]
    public void PyTorch_loads_nested_dicts_and_zip64_records()
    {
        AssertLoaded(files.Result("checkpoint.pth", "pth-nested"), Fixtures.ExpectedFor("checkpoint.pth"), "checkpoint.pth");
        AssertLoaded(files.Result("mlp.pth", "pth-zip64"), Fixtures.ExpectedFor("mlp.pth"), "mlp.pth", resave: false);
    }

    [TorchTheory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void The_safetensors_follows_the_reference_rules_and_holds_the_same_tensors(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        var result = files.Result(name, "safetensors");
        var problems = result["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.True(problems.Count == 0, $"{name}: {string.Join("; ", problems)}");
        var tensors = result["tensors"]!.AsArray().ToDictionary(t => t!["key"]!.GetValue<string>(), t => t!);
        var wanted = expected.Tensors.Where(t => t.DType != "complex128").ToList();
        Assert.Equal(wanted.Select(t => t.Key).Order(StringComparer.Ordinal), tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var want in wanted)
        {
            var got = tensors[want.Key];
            Assert.Equal(want.DType, got["dtype"]!.GetValue<string>());
            Assert.Equal(want.Shape, got["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
            Assert.True(want.Sha256 == got["sha256"]!.GetValue<string>(), $"{name}: {want.Key} differs");
        }
    }

    private void AssertLoaded(JsonNode result, Expected expected, string name, bool resave = true)
    {
        var problems = result["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.True(problems.Count == 0, $"{name}: {string.Join("; ", problems)}");
        string weightsOnly = result["weights_only"]!.GetValue<string>();
        if (weightsOnly != "ok")
        {
            // Only the torch 1.13 BINFLOAT gap is excused, and only when torch's own file has it too.
            Assert.True(weightsOnly.Contains(NoBinFloat, StringComparison.Ordinal), $"{name}: torch.load(weights_only=True) failed: {weightsOnly}");
            string original = result["original_weights_only"]?.GetValue<string>() ?? "";
            Assert.True(original.Contains(NoBinFloat, StringComparison.Ordinal),
                $"{name}: our file needs BINFLOAT but the fixture loads with weights_only ({original})");
            output.WriteLine($"{name}: torch {files.TorchVersion}'s weights_only has no BINFLOAT (nor for the original); checked with a full load");
        }
        var tensors = result["tensors"]!.AsArray();
        Assert.Equal(expected.Tensors.Select(t => t.Key), tensors.Select(t => t!["key"]!.GetValue<string>()));
        foreach (var (want, got) in expected.Tensors.Zip(tensors))
        {
            string where = $"{name}: {want.Key}";
            Assert.True(want.DType == got!["dtype"]!.GetValue<string>(), where);
            Assert.Equal(want.Shape, got["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
            Assert.Equal(want.Strides, got["strides"]!.AsArray().Select(d => d!.GetValue<long>()));
            Assert.Equal(want.StorageOffset, got["storage_offset"]!.GetValue<long>());
            Assert.True(want.IsParameter == got["is_parameter"]!.GetValue<bool>(), $"{where}: is_parameter");
            Assert.True(want.Sha256 == got["sha256"]!.GetValue<string>(), $"{where}: bytes differ");
        }
        var values = result["values"]!.AsObject();
        Assert.Equal(expected.Values.Select(v => v.Key), values.Select(v => v.Key));
        foreach (var (key, json) in expected.Values)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json.GetRawText()), values[key]), $"{name}: value {key}: {json.GetRawText()} vs {values[key]?.ToJsonString()}");
        }
        if (resave)
        {
            Assert.True(result["resave_identical"]!.GetValue<bool>(), $"{name}: torch.save of what torch loaded is not our file");
        }
    }

    /// <summary>Writes every fixture once and has the python script verify them all in one run.</summary>
    public sealed class WrittenFiles : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("statedict-torch-").FullName;
        private readonly Dictionary<string, JsonNode> _results = [];
        private readonly Lazy<JsonNode> _run;

        public WrittenFiles() => _run = new Lazy<JsonNode>(WriteAndVerify);

        public string TorchVersion => _run.Value["torch_version"]!.GetValue<string>();

        public HashSet<string> TorchDTypes => _run.Value["dtypes"]!.AsArray().Select(d => d!.GetValue<string>()).ToHashSet();

        public JsonNode Result(string fixture, string kind)
        {
            _ = _run.Value;
            return _results.TryGetValue($"{fixture}|{kind}", out var result) ? result : throw new KeyNotFoundException($"no {kind} file was written for {fixture}");
        }

        /// <summary>Deletes the files, unless STATEDICT_KEEP_WRITTEN is set (to look at them after a failure).</summary>
        public void Dispose()
        {
            if (Environment.GetEnvironmentVariable("STATEDICT_KEEP_WRITTEN") is null)
            {
                Directory.Delete(_directory, recursive: true);
            }
        }

        private JsonNode WriteAndVerify()
        {
            var manifest = new List<(string Key, string Path, string Format, string? Original)>();
            int index = 0;
            foreach (string name in Fixtures.Readable())
            {
                string folder = Path.Combine(_directory, (index++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                Directory.CreateDirectory(folder);
                string pth = Path.Combine(folder, RoundTripTests.WrittenName(name, ".pth"));
                string safetensors = Path.Combine(folder, RoundTripTests.WrittenName(name, ".safetensors"));
                using var source = Checkpoint.Open(Fixtures.PathOf(name));
                source.Save(pth);
                manifest.Add(($"{name}|pth", pth, "pth", Fixtures.PathOf(name)));

                var newer = source.Tensors.Values.Where(t => t.DType is DType.UInt16 or DType.UInt32 or DType.UInt64 or DType.Float8E4M3FN or DType.Float8E5M2).ToList();
                if (newer.Count > 0)
                {
                    string older = Path.Combine(folder, "torch-dtypes", RoundTripTests.WrittenName(name, ".pth"));
                    Directory.CreateDirectory(Path.GetDirectoryName(older)!);
                    var writer = StateDictWriter.From(source);
                    newer.ForEach(t => writer.Remove(t.Key));
                    writer.Save(older);
                    manifest.Add(($"{name}|pth-torch-dtypes", older, "pth", Fixtures.PathOf(name)));
                }

                var safe = StateDictWriter.From(source);
                source.Tensors.Values.Where(t => t.DType == DType.Complex128).ToList().ForEach(t => safe.Remove(t.Key));
                safe.Save(safetensors);
                manifest.Add(($"{name}|safetensors", safetensors, "safetensors", null));

                if (name == "checkpoint.pth")
                {
                    string nested = Path.Combine(folder, "nested", "checkpoint.pth");
                    Directory.CreateDirectory(Path.GetDirectoryName(nested)!);
                    source.Save(nested, new SaveOptions { Keys = KeyLayout.Nested });
                    manifest.Add(($"{name}|pth-nested", nested, "pth", Fixtures.PathOf(name)));
                }
                if (name == "mlp.pth")
                {
                    string zip64 = Path.Combine(folder, "zip64", "mlp.pth");
                    Directory.CreateDirectory(Path.GetDirectoryName(zip64)!);
                    // Sizes only: miniz checks a record's 32-bit header offset + size against the file length whenever
                    // the size is not 0xFFFFFFFF, which only a real > 4 GiB file passes.
                    using (var stream = File.Create(zip64))
                    {
                        StateDictWriter.From(source).Write(stream, SaveFormat.Pth, "mlp", new SaveOptions(), zip64Threshold: 100);
                    }
                    manifest.Add(($"{name}|pth-zip64", zip64, "pth", Fixtures.PathOf(name)));
                }
            }

            string manifestPath = Path.Combine(_directory, "manifest.json");
            File.WriteAllText(manifestPath, JsonSerializer.Serialize(new
            {
                files = manifest.Select(m => new { path = m.Path, format = m.Format, original = m.Original }),
            }));
            var (code, stdout, stderr) = TorchLane.Run(TimeSpan.FromMinutes(10), TorchLane.Script, manifestPath);
            Assert.True(code == 0, $"verify_with_torch.py exited {code}: {stderr}");
            var root = JsonNode.Parse(stdout)!;
            var byPath = root["files"]!.AsArray().ToDictionary(f => f!["path"]!.GetValue<string>(), f => f!);
            foreach (var (key, path, _, _) in manifest)
            {
                _results[key] = byPath[path];
            }
            return root;
        }
    }
}
