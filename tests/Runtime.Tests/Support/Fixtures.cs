using Xunit;
using System.Text.Json;

namespace StateDict.Tests.Support;

/// <summary>The checkpoints PyTorch wrote (tests/fixtures) and what PyTorch says is in them (NAME.expected.json).</summary>
public static class Fixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Every fixture the reader must read exactly (not refused, not a later issue's format).</summary>
    public static TheoryData<string> Readable() =>
    [
        "checkpoint.pth", "dataparallel.pth", "digits_mlp.pth", "digits_test.pth", "dtypes.pth", "legacy_dtypes.pth",
        "legacy_mlp.pth", "legacy_views.pth", "mlp.pth", "mobilenet_v3_small.pth", "parameters.pth", "protocol4.pth",
        "sequential.pth", "views.pth", "scripted_mlp.pt", "state_dict.pkl",
        "legacy_protocol1.pth", "legacy_protocol2.pth", "legacy_protocol3.pth", "legacy_protocol4.pth", "legacy_protocol5.pth",
        "safetensors/dtypes.safetensors", "safetensors/mlp.safetensors",
        "sharded/model.safetensors.index.json", "sharded/pytorch_model.bin.index.json",
    ];

    public static Expected ExpectedFor(string name)
    {
        using var stream = File.OpenRead(PathOf(name + ".expected.json"));
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        var tensors = root.TryGetProperty("tensors", out var t)
            ? t.EnumerateArray().Select(e => new ExpectedTensor(
                e.GetProperty("key").GetString()!,
                e.GetProperty("dtype").GetString()!,
                e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
                e.GetProperty("strides").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
                e.GetProperty("storage_offset").GetInt64(),
                e.GetProperty("is_parameter").GetBoolean(),
                e.GetProperty("sha256").GetString()!)).ToList()
            : [];
        var values = root.TryGetProperty("values", out var v)
            ? v.EnumerateObject().Select(p => new KeyValuePair<string, JsonElement>(p.Name, p.Value.Clone())).ToList()
            : [];
        return new Expected(
            root.GetProperty("format").GetString()!,
            tensors,
            values,
            root.TryGetProperty("must_reject", out var reject) && reject.GetBoolean(),
            root.TryGetProperty("forbidden_global", out var global) ? global.GetString() : null,
            root.TryGetProperty("metadata", out var metadata)
                ? metadata.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
                : new Dictionary<string, string>());
    }
}

/// <param name="Metadata">safetensors' <c>__metadata__</c> or a sharded index's <c>metadata</c> (values as text); empty for torch files.</param>
public sealed record Expected(string Format, IReadOnlyList<ExpectedTensor> Tensors, IReadOnlyList<KeyValuePair<string, JsonElement>> Values, bool MustReject, string? ForbiddenGlobal,
    IReadOnlyDictionary<string, string> Metadata);

public sealed record ExpectedTensor(string Key, string DType, long[] Shape, long[] Strides, long StorageOffset, bool IsParameter, string Sha256);
