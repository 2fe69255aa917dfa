using StateDict.Pickle;
using Xunit;

namespace StateDict.Tests.Pickle;

/// <summary>Runs pickles through <see cref="PickleMachine"/> and checks how they fail.</summary>
internal static class PickleAssert
{
    public const string FilePath = "test.pth";
    public const string Part = "archive/data.pkl";

    public static readonly PickleSource Source = new(FilePath, Part);

    public static PickleResult Run(byte[] data, CheckpointLimits? limits = null) =>
        PickleMachine.Run(data, Source, limits ?? CheckpointLimits.Default);

    public static PickleResult Run(PickleBuilder pickle, CheckpointLimits? limits = null) => Run(pickle.ToArray(), limits);

    public static object Root(PickleBuilder pickle) => Run(pickle).Root;

    /// <summary>
    /// Asserts the pickle is refused with exactly <typeparamref name="T"/>, naming the file, the part and
    /// "byte <paramref name="atByte"/>", and saying <paramref name="problem"/>.
    /// </summary>
    public static T Fails<T>(byte[] data, int atByte, string problem, CheckpointLimits? limits = null) where T : CheckpointException
    {
        var e = Assert.Throws<T>(() => Run(data, limits));
        Assert.Equal(FilePath, e.FilePath);
        Assert.StartsWith(FilePath + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{Part} byte {atByte}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        return e;
    }

    public static T Fails<T>(PickleBuilder pickle, int atByte, string problem, CheckpointLimits? limits = null) where T : CheckpointException =>
        Fails<T>(pickle.ToArray(), atByte, problem, limits);

    /// <summary>A corrupt pickle: <see cref="CheckpointCorruptException"/> at <paramref name="atByte"/>.</summary>
    public static CheckpointCorruptException Corrupt(PickleBuilder pickle, int atByte, string problem, CheckpointLimits? limits = null) =>
        Fails<CheckpointCorruptException>(pickle, atByte, problem, limits);

    /// <summary>Pickle bytes starting with PROTO <paramref name="protocol"/>, or nothing for protocols 0 and 1 (which have no PROTO).</summary>
    public static PickleBuilder Start(int protocol) => protocol >= 2 ? new PickleBuilder().Proto(protocol) : new PickleBuilder();
}
