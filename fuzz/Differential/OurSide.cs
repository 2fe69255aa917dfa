using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Fuzz.Differential;

/// <summary>What StateDict made of one pickle.</summary>
/// <param name="Finished">The VM reached STOP.</param>
/// <param name="Accepted">The torch layer read the result too: StateDict would return data for these bytes.</param>
/// <param name="Seen">Every global the VM named (<c>module.name</c>, after its Python 2 mapping), including those
/// named before it refused: what <c>scan</c> reports.</param>
/// <param name="Root">The canonical text of the VM's result, when it finished.</param>
/// <param name="Error">The refusal, when there is one.</param>
internal sealed record OurOutcome(bool Finished, bool Accepted, IReadOnlySet<string> Seen, string? Root, CheckpointException? Error)
{
    public string Describe() =>
        Accepted ? "accepted" : Error is null ? "?" : $"{(Finished ? "VM finished, torch layer refused" : "VM refused")}: {Error.GetType().Name}: {Error.Problem}";
}

/// <summary>
/// Our side: the pickle VM then the torch layer, as <c>ZipContainer</c> reads a <c>data.pkl</c> (the same VM reads a
/// plain or legacy pickle from the file's bytes): <see cref="PickleMachine.Run"/> with the globals-seen list the scanner
/// uses, then <see cref="TorchReader.Read(PickleResult, PickleSource, CheckpointLimits)"/>, whose allow-list check
/// refuses any other global as unsafe.
/// </summary>
internal static class OurSide
{
    /// <summary>The fuzz harness's limits: the defaults, with a 16 MiB pickle budget (inputs are far smaller).</summary>
    public static readonly CheckpointLimits Limits = CheckpointLimits.Default with { MaxPickleBytes = 16 << 20 };

    public static OurOutcome Run(byte[] data)
    {
        var source = new PickleSource("input.pkl", "data.pkl");
        var seen = new List<PyGlobal>();
        PickleResult pickle;
        try
        {
            pickle = PickleMachine.Run(data, source, Limits, seen, refused: ReadPolicy.Default.Refuses); // as ZipContainer runs data.pkl
        }
        catch (CheckpointException e)
        {
            return new OurOutcome(false, false, Names(seen), null, e);
        }
        string root = Canon.Of(pickle.Root);
        try
        {
            TorchReader.Read(pickle, source, Limits);
            return new OurOutcome(true, true, Names(seen), root, null);
        }
        catch (CheckpointException e)
        {
            return new OurOutcome(true, false, Names(seen), root, e);
        }
    }

    /// <summary>Whether StateDict allows <paramref name="module"/>.<paramref name="name"/> in a torch.save file.</summary>
    public static bool IsAllowed(string module, string name)
    {
        var (m, n) = Python2Names.Canonical(module, name);
        return AllowList.IsAllowed(new PyGlobal(m, n, 0));
    }

    /// <summary>The name our VM reports for what the unpickler passed to find_class.</summary>
    public static string Reported(string module, string name)
    {
        var (m, n) = Python2Names.Canonical(module, name);
        return $"{m}.{n}";
    }

    private static HashSet<string> Names(List<PyGlobal> globals) => globals.Select(g => Canon.Plain(g.FullName)).ToHashSet(StringComparer.Ordinal);
}
