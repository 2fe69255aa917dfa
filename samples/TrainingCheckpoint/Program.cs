// Opens a training checkpoint (model + optimizer + epoch) without a generated class:
// Checkpoint.Open, LoadOptions.Prefix, Tensors, Read<T> and Values. See TrainingCheckpointReport.cs.
using TrainingCheckpoint;

string path = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "checkpoint.pth");
TrainingCheckpointReport.Print(path, Console.Out);
