using System.Security.Cryptography;
using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Writing;

/// <summary>
/// Every readable fixture, read, written as .pth and as .safetensors, and read back: the same tensors (SHA-256 of
/// their bytes as PyTorch recorded them), and for .pth the same views, parameters and plain values.
/// </summary>
public sealed class RoundTripTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("statedict-write-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Pth_round_trip_keeps_every_tensor_view_and_value(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        string written = Path.Combine(_directory, WrittenName(name, ".pth"));
        using (var source = Checkpoint.Open(Fixtures.PathOf(name)))
        {
            source.Save(written);
        }

        using var copy = Checkpoint.Open(written);
        Assert.Equal(CheckpointFormat.Zip, copy.Format);
        CheckpointAssert.TensorsMatch(expected, copy);
        AssertValues(expected, copy.Values);
    }

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Safetensors_round_trip_keeps_every_tensor(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        string written = Path.Combine(_directory, WrittenName(name, ".safetensors"));
        var unsupported = expected.Tensors.Where(t => t.DType == "complex128").Select(t => t.Key).ToList();
        using (var source = Checkpoint.Open(Fixtures.PathOf(name)))
        {
            if (unsupported.Count > 0)
            {
                // safetensors has no complex128: refused by name, and nothing is left behind.
                var refused = Assert.Throws<NotSupportedException>(() => source.Save(written));
                Assert.Contains($"{unsupported[0]} (complex128)", refused.Message);
                Assert.Empty(Directory.GetFiles(_directory));
                var writer = StateDictWriter.From(source);
                unsupported.ForEach(k => writer.Remove(k));
                writer.Save(written);
            }
            else
            {
                source.Save(written);
            }
        }

        using var copy = Checkpoint.Open(written);
        Assert.Equal(CheckpointFormat.Safetensors, copy.Format);
        Assert.Equal("pt", copy.Metadata["format"]);
        var wanted = expected.Tensors.Where(t => !unsupported.Contains(t.Key)).ToList();
        Assert.Subset(wanted.Select(t => t.Key).ToHashSet(), copy.Tensors.Keys.ToHashSet());
        foreach (var want in wanted)
        {
            // A tied tensor is either read back under its own name or recorded as an alias of the name kept.
            string key = copy.Tensors.ContainsKey(want.Key) ? want.Key : copy.Metadata[want.Key];
            var info = copy.Tensors[key];
            Assert.Equal(want.DType, info.DType.Name());
            Assert.Equal(want.Shape, info.Shape);
            Assert.True(info.IsContiguous);
            Assert.Equal(want.Sha256, Sha256(copy, key));
        }
        Assert.Empty(copy.Values);
    }

    /// <summary>One file name per fixture, whatever folder it is in ("sharded/model.safetensors.index.json" → "model.safetensors.index.pth").</summary>
    internal static string WrittenName(string fixture, string extension) =>
        Path.GetFileNameWithoutExtension(fixture.Replace('/', '_')) + extension;

    internal static string Sha256(Checkpoint checkpoint, string key) =>
        Convert.ToHexStringLower(SHA256.HashData(checkpoint.ReadBytes(key).Span));

    internal static void AssertValues(Expected expected, IReadOnlyDictionary<string, object?> values)
    {
        Assert.Equal(expected.Values.Select(v => v.Key), values.Keys);
        foreach (var (key, json) in expected.Values)
        {
            object? actual = values[key];
            switch (json.ValueKind)
            {
                case JsonValueKind.Null: Assert.Null(actual); break;
                case JsonValueKind.True or JsonValueKind.False: Assert.Equal(json.GetBoolean(), actual); break;
                case JsonValueKind.String: Assert.Equal(json.GetString(), actual); break;
                case JsonValueKind.Number when json.TryGetInt64(out long l) && actual is long: Assert.Equal(l, actual); break;
                case JsonValueKind.Number: Assert.Equal(json.GetDouble(), Assert.IsType<double>(actual)); break;
                default: Assert.Fail($"unexpected JSON kind {json.ValueKind} for {key}"); break;
            }
        }
    }
}
