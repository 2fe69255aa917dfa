using StateDict.Containers;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Formats;

/// <summary>
/// A pickle container hands its main pickle to the one tree read and keeps nothing of it afterwards: an open checkpoint
/// does not hold the pickle's object graph (about 7 MB of the 18 MB an open 20,000-tensor checkpoint held).
/// </summary>
public sealed class ContainerTreeTests
{
    [Theory]
    [InlineData("mlp.pth")]          // zip
    [InlineData("legacy_mlp.pth")]   // legacy
    [InlineData("state_dict.pkl")]   // plain pickle
    public void The_tree_is_read_once_and_the_pickle_is_not_kept(string fixture)
    {
        using var file = new CheckpointFile(Fixtures.PathOf(fixture));
        using var container = ContainerDetector.Open(file, new CheckpointLimits());

        var tree = container.ReadTree(new CheckpointLimits());

        Assert.NotEmpty(tree.Tensors);
        Assert.Throws<InvalidOperationException>(() => container.ReadTree(new CheckpointLimits()));
        Assert.Throws<InvalidOperationException>(() => container.ReadTreeAllowingModulePickles(new CheckpointLimits()));
    }
}
