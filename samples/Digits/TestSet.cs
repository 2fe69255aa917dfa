using StateDict;

namespace Digits;

/// <summary>The held-out test set in digits_test.pth, with what PyTorch computed for it.</summary>
public sealed record TestSet(TensorView<float> Images, TensorView<long> Labels, TensorView<float> Logits, double Accuracy)
{
    /// <summary>Reads it with the untyped API: <see cref="Checkpoint.Read{T}(string)"/> and <see cref="Checkpoint.Values"/>.</summary>
    public static TestSet Load(string path)
    {
        using var file = Checkpoint.Open(path); // the views read below stay valid after it closes
        return new TestSet(
            Images: file.Read<float>("images"),             // [397, 64] float32, pixels in [0, 1]
            Labels: file.Read<long>("labels"),              // [397] int64
            Logits: file.Read<float>("logits"),             // [397, 10] float32, PyTorch's output
            Accuracy: (double)file.Values["accuracy"]!);    // a plain Python float
    }

    /// <summary>Number of images.</summary>
    public int Count => (int)Images.Shape[0];
}
