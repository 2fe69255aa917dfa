using System.Collections.Immutable;

namespace StateDict;

/// <summary>
/// One tensor a generated class expects: key, dtype and shape (the generated <c>Schema</c> lists them), and its kind.
/// A sparse entry (<see cref="Layout"/> not strided) is keyed by the sparse tensor, with its values' dtype and its dense
/// shape; a quantized entry (<see cref="QuantizedDType"/> set) has its integer representation's dtype and its logical
/// shape; a meta entry (<see cref="IsMeta"/>) has no data.
/// </summary>
/// <example><code>new SchemaEntry("adj", DType.Float32, 4, 5) { Layout = TensorLayout.SparseCoo }</code></example>
public sealed record SchemaEntry(string Key, DType DType, ImmutableArray<long> Shape)
{
    /// <summary>Creates an entry (the form generated code uses).</summary>
    public SchemaEntry(string key, DType dtype, params long[] shape)
        : this(key, dtype, ImmutableArray.Create(shape))
    {
    }

    /// <summary>The sparse layout of a sparse entry; <see cref="TensorLayout.Strided"/> for every other one.</summary>
    public TensorLayout Layout { get; init; }

    /// <summary>The quantized dtype of a quantized entry, else null.</summary>
    public QuantizedDType? QuantizedDType { get; init; }

    /// <summary>The quantization scheme of a quantized entry, else null.</summary>
    public QScheme? QScheme { get; init; }

    /// <summary>True for a meta tensor (dtype and shape, no data).</summary>
    public bool IsMeta { get; init; }

    /// <summary>What the entry is, as messages name it: <c>float32</c>, <c>sparse_coo float32</c>, <c>quantized qint8 (per_tensor_affine)</c>, <c>meta float32</c>.</summary>
    public string KindName =>
        Layout != TensorLayout.Strided ? $"{Layout.Name()} {DType.Name()}"
        : QuantizedDType is { } q ? $"quantized {q.Name()}{(QScheme is { } s ? $" ({s.Name()})" : "")}"
        : IsMeta ? $"meta {DType.Name()}"
        : DType.Name();

    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {KindName} [{string.Join(", ", Shape)}]";
}
