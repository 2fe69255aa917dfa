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
