using System.Runtime.ExceptionServices;

namespace StateDict.Reading;

/// <summary>
/// Reads spread over the machine's cores (whole storages in <see cref="Checkpoint.Preload"/>, parts of one large range
/// in <see cref="StorageCache.ReadRange"/> from 8 MiB): fresh destination pages are then faulted, and bytes copied out of the page
/// cache, on every core at once.
/// </summary>
internal static class ParallelReads
{
    /// <summary>
    /// Runs <paramref name="body"/> for 0 .. <paramref name="count"/> - 1 in parallel. What a body throws reaches the
    /// caller as a sequential read would throw it (the first <see cref="CheckpointException"/>, naming the record),
    /// never as an AggregateException the CLI would call an internal error.
    /// </summary>
    public static void For(int count, Action<int> body, CancellationToken cancellationToken = default)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, body);
        }
        catch (AggregateException e)
        {
            var inner = e.Flatten().InnerExceptions;
            ExceptionDispatchInfo.Capture(inner.OfType<CheckpointException>().FirstOrDefault() ?? inner[0]).Throw();
            throw;
        }
    }
}
