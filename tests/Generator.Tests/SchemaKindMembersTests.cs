using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Parsing;

namespace StateDict.Generator.Tests;

/// <summary>
/// Schemas of sparse and quantized checkpoints (as <c>statedict schema</c> writes them) carry "layout", "of",
/// "component", "quantized_dtype", "qscheme" and "axis" per entry; the parser reads each entry's dtype and shape as before
/// and reports nothing, so every component binds as the tensor <c>Checkpoint.Tensors</c> lists.
/// </summary>
public class SchemaKindMembersTests
{
    [Fact]
    public void Kind_members_are_tolerated_and_components_stay_tensors()
    {
        const string json = """
            {
              "format": "statedict-schema/1",
              "tensors": {
                "adj.indices": {"dtype": "int64", "shape": [2, 4], "layout": "sparse_coo", "of": "adj", "component": "indices"},
                "adj.values": {"dtype": "float32", "shape": [4], "layout": "sparse_coo", "of": "adj", "component": "values"},
                "fc.weight": {"dtype": "int8", "shape": [3, 4], "quantized_dtype": "qint8", "qscheme": "per_channel_affine", "axis": 0}
              }
            }
            """;

        var schema = SchemaParser.Parse("/proj/m.schema.json", SourceText.From(json), default);

        Assert.Empty(schema.Diagnostics);
        Assert.Equal(["adj.indices", "adj.values", "fc.weight"], schema.Tensors.Select(t => t.Key));
        Assert.Equal(["int64", "float32", "int8"], schema.Tensors.Select(t => t.DType));
    }
}
