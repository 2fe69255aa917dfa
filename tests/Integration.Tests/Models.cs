namespace StateDict.Integration.Tests;

// Each class is bound to a schema that `statedict schema` extracted from a fixture PyTorch wrote.

[StateDictSchema("Schemas/mlp.schema.json")]
public partial class Mlp;

[StateDictSchema("Schemas/sequential.schema.json")]
public partial class SequentialNet;

[StateDictSchema("Schemas/checkpoint_model.schema.json")]
public partial class CheckpointModel;

[StateDictSchema("Schemas/mobilenet_v3_small.schema.json")]
public partial class MobileNetV3Small;

// The same MLP wrapped in nn.DataParallel: keys "module.fc1.weight" are found by prefix detection.
[StateDictSchema("Schemas/mlp.schema.json")]
internal sealed partial class DataParallelNet;

[StateDictSchema("dtypes.schema.json")] // matched by unique file name
public partial class AllDTypes;

public static partial class Nested
{
    [StateDictSchema("Schemas/views.schema.json")]
    public partial class Views;
}

/// <summary>Selective binding: only the declared keys are implemented and loaded.</summary>
[StateDictSchema("Schemas/digits_mlp.schema.json")]
public partial class DigitsHead
{
    [TensorKey("out.weight")]
    public partial TensorView<float> OutputWeight { get; }

    [TensorKey("out.bias")]
    internal partial TensorView<float> OutputBias { get; }
}

// The tensor kinds (issue 11): schemas `statedict schema` extracted from tests/fixtures/kinds, written by torch 1.13
// (sparse_torch2.pth imitates torch ≥ 2.1's CSC/BSR/BSC pickles byte for byte).

[StateDictSchema("Schemas/kinds_sparse.schema.json")]
public partial class SparseKinds;

[StateDictSchema("Schemas/kinds_sparse_torch2.schema.json")]
public partial class SparseKindsTorch2;

[StateDictSchema("Schemas/kinds_quantized.schema.json")]
public partial class QuantizedKinds;

[StateDictSchema("Schemas/kinds_quantized_model.schema.json")]
public partial class QuantizedModel;

[StateDictSchema("Schemas/kinds_meta.schema.json")]
public partial class MetaKinds;

/// <summary>A sharded pytorch_model.bin index whose two shards hold sparse and quantized tensors.</summary>
[StateDictSchema("Schemas/kinds_sharded.schema.json")]
public partial class ShardedKinds;

/// <summary>A quantized model bound by hand: strict (a [Module]), so every other key is ignored explicitly.</summary>
[StateDictSchema("Schemas/kinds_quantized_model.schema.json", Ignore = new[] { "static.quant.*", "static.conv.scale", "static.conv.zero_point", "static.fc.*_point", "static.fc.scale", "dynamic.*" })]
public partial class QuantizedNet
{
    [Module("static.conv")]
    public partial QuantizedConv Conv { get; }

    [TensorKey("static.fc._packed_params._packed_params.0")]
    public partial QuantizedTensor FcWeight { get; }

    [TensorKey("static.fc._packed_params._packed_params.1")]
    public partial TensorView<float> FcBias { get; }
}

[StateDictModule]
public partial class QuantizedConv
{
    [TensorKey("weight")]
    public partial QuantizedTensor Weight { get; }

    [TensorKey("bias")]
    public partial TensorView<float> Bias { get; }
}

/// <summary>Sparse and meta tensors bound by hand (selective: other keys may be there).</summary>
[StateDictSchema("Schemas/kinds_sparse.schema.json")]
public partial class SparseByHand
{
    [TensorKey("coo")]
    public partial SparseTensor<float> Adjacency { get; }

    [TensorKey("csr_int32")]
    public partial SparseTensor<long> Counts { get; }
}

[StateDictSchema("Schemas/kinds_meta.schema.json")]
public partial class MetaByHand
{
    [TensorKey("weight")]
    public partial TensorInfo Weight { get; }

    [TensorKey("real")]
    public partial TensorView<float> Real { get; }
}

[StateDictSchema("Schemas/kinds_conj_views_torch2.schema.json")]
public partial class ConjViews;

[StateDictSchema("Schemas/kinds_new_dtypes_torch2.schema.json")]
public partial class NewDTypes;
