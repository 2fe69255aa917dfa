using System.Globalization;
using StateDict;

namespace TrainingCheckpoint;

/// <summary>
/// Reads a training checkpoint, <c>torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
/// "epoch": 7, "best_acc": 0.91, "config": {...}})</c>, with the untyped API.
/// </summary>
public static class TrainingCheckpointReport
{
    /// <summary>Writes the model's tensors and the checkpoint's plain values to <paramref name="output"/>.</summary>
    public static void Print(string path, TextWriter output)
    {
        // Prefix = "model." keeps only the model's entries and drops the prefix: "model.fc1.weight" is "fc1.weight".
        using (var model = Checkpoint.Open(path, new LoadOptions { Prefix = "model." }))
        {
            output.WriteLine($"{Path.GetFileName(path)} ({model.Format}), model tensors (Prefix = \"model.\"):");
            foreach (TensorInfo info in model.Tensors.Values)
            {
                output.WriteLine($"  {info.Key,-12} {info.DType.Name(),-8} [{string.Join(", ", info.Shape)}]");
            }

            TensorView<float> bias = model.Read<float>("fc1.bias"); // element type must match the dtype (float32)
            output.WriteLine($"  fc1.bias[0] = {bias[0].ToString(CultureInfo.InvariantCulture)}");
        }

        // Without a prefix every entry is visible: tensors under dotted keys ("optimizer.state.0.momentum_buffer"),
        // and the plain Python values (int as long, float as double, str, bool, None as null) in Values.
        using var full = Checkpoint.Open(path);
        long epoch = (long)full.Values["epoch"]!;
        double bestAcc = (double)full.Values["best_acc"]!;
        output.WriteLine();
        output.WriteLine($"Without a prefix: {full.Tensors.Count} tensors (model.*, optimizer.*) and {full.Values.Count} plain values, among them:");
        output.WriteLine($"  {"epoch",-16} {epoch}");
        output.WriteLine($"  {"best_acc",-16} {bestAcc.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (key, value) in full.Values.Where(v => v.Key.StartsWith("config.", StringComparison.Ordinal)))
        {
            output.WriteLine($"  {key,-16} {Convert.ToString(value, CultureInfo.InvariantCulture) ?? "None"}");
        }
    }
}
