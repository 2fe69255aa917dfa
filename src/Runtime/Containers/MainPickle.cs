using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Containers;

/// <summary>
/// A pickle container's main pickle, already run: handed to the one tree read (<see cref="IContainer.ReadTree"/>) and not
/// kept after it, so an open checkpoint does not hold the pickle's object graph (7 MB of a 20,000-tensor checkpoint).
/// </summary>
internal sealed class MainPickle(PickleResult pickle, PickleSource source)
{
    private PickleResult? _pickle = pickle;

    /// <summary>The pickle, once: a second tree read is a bug of ours, not of the file.</summary>
    public PickleResult Take() =>
        Interlocked.Exchange(ref _pickle, null) ?? throw new InvalidOperationException("the checkpoint's tree was already read");

    /// <summary>The checkpoint's tree, read from the pickle under <paramref name="policy"/>.</summary>
    public TorchTree ReadTree(CheckpointLimits limits, ReadPolicy policy) => TorchReader.Read(Take(), source, limits, policy);
}
