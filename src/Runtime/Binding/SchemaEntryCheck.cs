namespace StateDict;

/// <summary>
/// What a checkpoint has under a key, as a <see cref="SchemaEntry"/> of the same kind (dense, sparse, quantized or meta),
/// so a schema entry is checked against it field by field, and which keys of the file a schema leaves unbound.
/// </summary>
internal static class SchemaEntryCheck
{
    /// <summary>True when the file has a tensor of any kind under <paramref name="key"/> (a sparse tensor by its own key).</summary>
    public static bool Has(Checkpoint checkpoint, string key) => checkpoint.Tensors.ContainsKey(key) || checkpoint.SparseTensors.ContainsKey(key);

    /// <summary>What the file has under <paramref name="key"/>, or null.</summary>
    public static SchemaEntry? InFile(Checkpoint checkpoint, string key)
    {
        if (checkpoint.SparseTensors.TryGetValue(key, out var sparse))
        {
            return new SchemaEntry(key, sparse.DType, sparse.Shape) { Layout = sparse.Layout };
        }
        if (checkpoint.QuantizedTensors.TryGetValue(key, out var quantized))
        {
            return new SchemaEntry(key, quantized.Data.DType, quantized.Shape) { QuantizedDType = quantized.DType, QScheme = quantized.Scheme };
        }
        return checkpoint.Tensors.TryGetValue(key, out var info) ? new SchemaEntry(key, info.DType, info.Shape) { IsMeta = info.IsMeta } : null;
    }

    /// <summary>Why <paramref name="found"/> (what the file has) does not fit <paramref name="expected"/>, or null when it does.</summary>
    public static string? Mismatch(SchemaEntry found, SchemaEntry expected)
    {
        if (found.KindName != expected.KindName)
        {
            return $"'{found.Key}' is {found.KindName} in the file but {expected.KindName} in the schema";
        }
        return found.Shape.SequenceEqual(expected.Shape)
            ? null
            : $"'{found.Key}' has shape [{string.Join(", ", found.Shape)}] in the file but [{string.Join(", ", expected.Shape)}] in the schema";
    }

    /// <summary>
    /// The keys of the file's tensors, a component (<c>adj.indices</c>, <c>q.scales</c>) under its tensor's key, each
    /// once in file order; a component the schema itself lists stays under its own key.
    /// </summary>
    public static IEnumerable<string> FileKeys(Checkpoint checkpoint, Func<string, bool> listed)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var info in checkpoint.Tensors.Values)
        {
            string key = info.Owner is { } owner && !listed(info.Key) ? owner : info.Key;
            if (seen.Add(key))
            {
                yield return key;
            }
        }
    }
}
