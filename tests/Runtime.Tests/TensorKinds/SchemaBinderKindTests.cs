using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>
/// Strict loading of sparse, quantized and meta schema entries (what generated classes pass to <see cref="SchemaBinder"/>):
/// the kind is checked like the dtype and shape, and components count under their tensor's key.
/// </summary>
public class SchemaBinderKindTests
{
    private static CheckpointSchemaMismatchException Mismatch(string fixture, params SchemaEntry[] schema)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(fixture));
        return Assert.Throws<CheckpointSchemaMismatchException>(() => SchemaBinder.Bind(checkpoint, schema, null, "Net"));
    }

    [Fact]
    public void Components_of_bound_sparse_and_per_channel_quantized_tensors_are_not_unexpected()
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/quantized_model.pth"));
        var schema = checkpoint.Tensors.Values.Where(t => t.Owner is null).Select(t => checkpoint.QuantizedTensors.TryGetValue(t.Key, out var q)
            ? new SchemaEntry(t.Key, t.DType, q.Shape) { QuantizedDType = q.DType, QScheme = q.Scheme }
            : new SchemaEntry(t.Key, t.DType, t.Shape)).ToList();

        var binding = SchemaBinder.Bind(checkpoint, schema, new LoadOptions { Strict = true }, "Net");

        Assert.Empty(binding.Report.IgnoredKeys);
        Assert.Equal(QScheme.PerChannelAffine, binding.Quantized("static.conv.weight").Info.Scheme);
    }

    [Fact]
    public void An_unbound_sparse_tensor_is_unexpected_once_under_its_own_key()
    {
        var error = Mismatch("kinds/sparse.pth", new SchemaEntry("dense", DType.Float32, 3),
            new SchemaEntry("coo", DType.Float32, 3, 4) { Layout = TensorLayout.SparseCoo },
            new SchemaEntry("uncoalesced", DType.Float32, 3, 4) { Layout = TensorLayout.SparseCoo },
            new SchemaEntry("hybrid", DType.Float32, 4, 3) { Layout = TensorLayout.SparseCoo },
            new SchemaEntry("csr", DType.Float32, 3, 3) { Layout = TensorLayout.SparseCsr });

        Assert.Equal(["unexpected key 'csr_int32' (not in the schema; pass LoadOptions { Strict = false } to ignore it)"], error.Problems);
    }

    [Fact]
    public void A_quantized_tensor_listed_as_dense_is_a_kind_mismatch()
    {
        var error = Mismatch("kinds/quantized.pth", new SchemaEntry("qint8", DType.Int8, 4, 6));

        Assert.Contains("'qint8' is quantized qint8 (per_tensor_affine) in the file but int8 in the schema", error.Problems);
    }

    [Fact]
    public void Sparse_layout_quantized_scheme_and_meta_mismatches_are_named()
    {
        Assert.Contains("'csr' is sparse_csr float32 in the file but sparse_csc float32 in the schema",
            Mismatch("kinds/sparse.pth", new SchemaEntry("csr", DType.Float32, 3, 3) { Layout = TensorLayout.SparseCsc }).Problems);
        Assert.Contains("'per_channel' is quantized qint8 (per_channel_affine) in the file but quantized qint8 (per_tensor_affine) in the schema",
            Mismatch("kinds/quantized.pth", new SchemaEntry("per_channel", DType.Int8, 4, 6) { QuantizedDType = QuantizedDType.QInt8, QScheme = QScheme.PerTensorAffine }).Problems);
        Assert.Contains("'real' is float32 in the file but meta float32 in the schema",
            Mismatch("kinds/meta.pth", new SchemaEntry("real", DType.Float32, 2) { IsMeta = true }).Problems);
        Assert.Contains("'coo' has shape [3, 4] in the file but [4, 4] in the schema",
            Mismatch("kinds/sparse.pth", new SchemaEntry("coo", DType.Float32, 4, 4) { Layout = TensorLayout.SparseCoo }).Problems);
    }

    [Fact]
    public void A_meta_tensor_the_schema_does_not_list_is_unexpected_in_a_strict_load()
    {
        var error = Mismatch("kinds/meta.pth", new SchemaEntry("real", DType.Float32, 2));

        Assert.Contains("unexpected key 'weight' (not in the schema; pass LoadOptions { Strict = false } to ignore it)", error.Problems);
    }
}
