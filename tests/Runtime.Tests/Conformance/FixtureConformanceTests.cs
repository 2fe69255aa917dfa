using System.Security.Cryptography;
using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Conformance;

/// <summary>Every fixture reads exactly as PyTorch recorded it: keys in order, dtypes, shapes, strides, offsets, values, SHA-256.</summary>
public class FixtureConformanceTests
{
    public static TheoryData<string, TensorMemory> ReadableInEveryMemoryMode()
    {
        var data = new TheoryData<string, TensorMemory>();
        foreach (var name in Fixtures.Readable())
        {
            foreach (var memory in Enum.GetValues<TensorMemory>())
            {
                data.Add(name, memory);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ReadableInEveryMemoryMode))]
    public void Tensors_match_what_PyTorch_wrote(string name, TensorMemory memory)
    {
        var expected = Fixtures.ExpectedFor(name);
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name), new LoadOptions { Memory = memory });

        Assert.Equal(expected.Format, checkpoint.Format.ToString().ToLowerInvariant());
        CheckpointAssert.TensorsMatch(expected, checkpoint);
    }

    [Theory]
    [MemberData(nameof(Fixtures.Readable), MemberType = typeof(Fixtures))]
    public void Values_match_what_PyTorch_wrote(string name)
    {
        var expected = Fixtures.ExpectedFor(name);
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name));

        Assert.Equal(expected.Values.Select(v => v.Key), checkpoint.Values.Keys);
        foreach (var (key, json) in expected.Values)
        {
            object? actual = checkpoint.Values[key];
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
