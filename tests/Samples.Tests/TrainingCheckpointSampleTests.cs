using TrainingCheckpoint;

namespace StateDict.Samples.Tests;

public class TrainingCheckpointSampleTests
{
    private static string[] Run()
    {
        var output = new StringWriter();
        TrainingCheckpointReport.Print(Path.Combine(AppContext.BaseDirectory, "checkpoint.pth"), output);
        return output.ToString().Split(Environment.NewLine);
    }

    [Fact]
    public void Prints_the_four_model_tensors_without_the_prefix()
    {
        string[] lines = Run();

        Assert.Contains("  fc1.weight   float32  [32, 16]", lines);
        Assert.Contains("  fc1.bias     float32  [32]", lines);
        Assert.Contains("  fc2.weight   float32  [4, 32]", lines);
        Assert.Contains("  fc2.bias     float32  [4]", lines);
        Assert.DoesNotContain(lines, l => l.Contains("model.fc", StringComparison.Ordinal) || l.Contains("momentum_buffer", StringComparison.Ordinal));
    }

    [Fact]
    public void Prints_the_plain_values()
    {
        string[] lines = Run();

        Assert.Contains("  epoch            7", lines);
        Assert.Contains("  best_acc         0.91", lines);
        Assert.Contains("  config.layers.0  16", lines);
        Assert.Contains("  config.name      mlp", lines);
    }
}
