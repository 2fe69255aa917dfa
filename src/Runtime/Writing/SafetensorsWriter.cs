using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace StateDict.Writing;

/// <summary>
/// Writes a <c>.safetensors</c> file as the reference implementation (huggingface/safetensors <c>serialize</c>) does:
/// u64 header length, compact JSON header with <c>__metadata__</c> first and then the tensors sorted by descending
/// dtype alignment, then name; padded with spaces to a multiple of 8 so the data starts aligned; then each
/// tensor's bytes, contiguous, in header order, with no gaps. Tensors that are the same view of the same storage
/// (tied weights) are written once, under the smallest of their names, and every other name is recorded in
/// <c>__metadata__</c> as <c>alias → kept name</c> (what <c>safetensors.torch.save_model</c> does).
/// </summary>
internal static class SafetensorsWriter
{
    /// <summary>The reference reader refuses headers over this size.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>The reference Dtype enum, in its order (increasing alignment).</summary>
    private static readonly string[] DTypeOrder =
    [
        "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
        "I32", "U32", "F32", "C64", "F64", "I64", "U64",
    ];

    /// <summary>The dtype code; null for complex128 and complex32, which the format lacks.</summary>
    public static string? Name(DType dtype) => dtype.SafetensorsName();

    /// <summary>The header's shape: values, not packed elements (a float4 pair is two values of the last dimension).</summary>
    private static IEnumerable<long> HeaderShape(TensorEntry tensor) =>
        tensor.DType.PackedValues() == 1 || tensor.Shape.Length == 0
            ? tensor.Shape
            : tensor.Shape.Select((d, i) => i == tensor.Shape.Length - 1 ? d * tensor.DType.PackedValues() : d);

    /// <summary>What will be written: the tensors in file order with their offsets, and the full metadata.</summary>
    public sealed record Plan(IReadOnlyList<(TensorEntry Tensor, string DType, long Begin, long End)> Tensors, SortedDictionary<string, string> Metadata, byte[] Header);

    public static Plan Prepare(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var unsupported = tensors.Where(t => Name(t.DType) is null).Select(t => $"{t.Key} ({t.DType.Name()})").ToList();
        if (unsupported.Count > 0)
        {
            throw new NotSupportedException(
                $"safetensors has no dtype for {string.Join(", ", unsupported)}; save these as .pth, or convert them (e.g. complex128 to complex64) first");
        }
        if (tensors.FirstOrDefault(t => t.IsMeta) is { } meta)
        {
            throw new NotSupportedException($"'{meta.Key}' is a meta tensor (no data); safetensors has no way to store one: save as .pth");
        }
        if (tensors.FirstOrDefault(t => t.Key == "__metadata__") is { } reserved)
        {
            throw new ArgumentException("'__metadata__' is reserved in safetensors headers and cannot name a tensor");
        }

        var allMetadata = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                allMetadata[key] = value ?? throw new ArgumentException($"metadata '{key}' is null; safetensors metadata values are strings");
            }
        }

        // Tied tensors: one name keeps the bytes (the smallest, as safetensors.torch does), the others are aliases.
        var kept = new List<TensorEntry>();
        foreach (var group in GroupAliases(tensors))
        {
            var keep = group.OrderBy(t => t.Key, Utf8Order.Instance).First();
            kept.Add(keep);
            foreach (var alias in group.Where(t => !ReferenceEquals(t, keep)))
            {
                if (allMetadata.TryGetValue(alias.Key, out var existing) && existing != keep.Key)
                {
                    throw new ArgumentException($"metadata key '{alias.Key}' is also a tensor written as an alias of '{keep.Key}'");
                }
                allMetadata[alias.Key] = keep.Key;
            }
        }

        // The reference writer: descending dtype (alignment), then name, bytes back to back.
        var ordered = kept
            .OrderByDescending(t => Array.IndexOf(DTypeOrder, Name(t.DType)))
            .ThenBy(t => t.Key, Utf8Order.Instance)
            .ToList();
        var planned = new List<(TensorEntry, string, long, long)>(ordered.Count);
        long offset = 0;
        foreach (var tensor in ordered)
        {
            long end = checked(offset + tensor.ByteLength);
            planned.Add((tensor, Name(tensor.DType)!, offset, end));
            offset = end;
        }

        var json = new StringBuilder();
        json.Append('{');
        bool first = true;
        if (allMetadata.Count > 0)
        {
            json.Append("\"__metadata__\":{");
            foreach (var (key, value) in allMetadata)
            {
                if (!first)
                {
                    json.Append(',');
                }
                first = false;
                AppendString(json, key);
                json.Append(':');
                AppendString(json, value);
            }
            json.Append('}');
            first = false;
        }
        foreach (var (tensor, dtype, begin, end) in planned)
        {
            if (!first)
            {
                json.Append(',');
            }
            first = false;
            AppendString(json, tensor.Key);
            json.Append(CultureInfo.InvariantCulture, $":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(',', HeaderShape(tensor))}],\"data_offsets\":[{begin},{end}]}}");
        }
        json.Append('}');
        byte[] text;
        try
        {
            text = StrictUtf8.GetBytes(json.ToString());
        }
        catch (EncoderFallbackException e)
        {
            // Encoding.UTF8 would write U+FFFD instead: a name changed silently, perhaps into another's.
            throw new NotSupportedException($"a tensor name or metadata string holds a lone UTF-16 surrogate (0x{(int)e.CharUnknown:X4}), which a safetensors header (UTF-8 JSON) cannot hold", e);
        }
        int padded = (text.Length + 7) / 8 * 8;
        if (padded > MaxHeaderBytes)
        {
            throw new NotSupportedException($"the safetensors header would be {padded} bytes, over the {MaxHeaderBytes}-byte limit readers enforce");
        }
        var header = new byte[padded];
        text.CopyTo(header, 0);
        header.AsSpan(text.Length).Fill((byte)' ');
        return new Plan(planned, allMetadata, header);
    }

    public static void Write(Stream stream, Plan plan, Action<long>? progress = null)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)plan.Header.Length);
        stream.Write(length);
        stream.Write(plan.Header);
        long done = 0;
        foreach (var (tensor, _, _, _) in plan.Tensors)
        {
            tensor.WriteContiguous(stream, chunk =>
            {
                done += chunk.Length;
                progress?.Invoke(done);
            });
        }
        stream.Flush();
    }

    private static List<List<TensorEntry>> GroupAliases(IReadOnlyList<TensorEntry> tensors)
    {
        var groups = new List<List<TensorEntry>>();
        var byStorage = new Dictionary<StorageSource, List<List<TensorEntry>>>(ReferenceEqualityComparer.Instance);
        foreach (var tensor in tensors)
        {
            if (!byStorage.TryGetValue(tensor.Storage, out var sameStorage))
            {
                byStorage.Add(tensor.Storage, sameStorage = []);
            }
            // A parameter and a plain tensor over the same view are still the same bytes here.
            var group = sameStorage.FirstOrDefault(g => SameView(g[0], tensor));
            if (group is null)
            {
                group = [];
                sameStorage.Add(group);
                groups.Add(group);
            }
            group.Add(tensor);
        }
        return groups;
    }

    private static bool SameView(TensorEntry a, TensorEntry b) =>
        a.StorageOffset == b.StorageOffset && a.Shape.SequenceEqual(b.Shape) && a.Strides.SequenceEqual(b.Strides);

    /// <summary>A JSON string as serde_json writes it: only '"', '\\' and control characters escaped.</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case < ' ': json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                default: json.Append(c); break;
            }
        }
        json.Append('"');
    }

    /// <summary>Orders strings by their UTF-8 bytes, as Rust compares <c>String</c>s.</summary>
    private sealed class Utf8Order : IComparer<string>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(string? x, string? y) =>
            Encoding.UTF8.GetBytes(x ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y ?? ""));
    }
}
