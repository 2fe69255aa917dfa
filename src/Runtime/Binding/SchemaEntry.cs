using System.Collections.Immutable;

namespace StateDict;

/// <summary>One tensor a generated class expects: key, dtype and shape (the generated <c>Schema</c> lists them).</summary>
public sealed record SchemaEntry(string Key, DType DType, ImmutableArray<long> Shape)
{
    /// <summary>Creates an entry (the form generated code uses).</summary>
    public SchemaEntry(string key, DType dtype, params long[] shape)
        : this(key, dtype, ImmutableArray.Create(shape))
    {
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {DType.Name()} [{string.Join(", ", Shape)}]";
}
