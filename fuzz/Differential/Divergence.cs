using System.Security.Cryptography;

namespace StateDict.Fuzz.Differential;

/// <summary>The ways our answer may differ from CPython's. The first three are security findings, the last two wrong data.</summary>
internal enum DivergenceKind
{
    /// <summary>Our VM reached STOP without naming a global CPython's unpickler imported.</summary>
    HiddenGlobal,
    /// <summary>We refused for another reason before naming a non-allowed global CPython imported.</summary>
    HiddenBehindRefusal,
    /// <summary>Our VM named a non-allowed global CPython imported, but the final answer is not an unsafe refusal.</summary>
    UnsafeNotRefusedAsUnsafe,
    /// <summary>Both finished, we returned data, and the unpickled structures differ.</summary>
    WrongData,
    /// <summary>We returned data for bytes CPython's unpickler rejects.</summary>
    AcceptsInvalid,
}

internal sealed record Divergence(DivergenceKind Kind, string Driver, string Detail)
{
    public override string ToString() => $"{Kind} [{Driver}]: {Detail}";
}

/// <summary>The lane's rules: where our outcome and one CPython driver's may not differ.</summary>
internal static class Compare
{
    public static List<Divergence> Find(OurOutcome ours, IReadOnlyList<PythonRun> python)
    {
        var found = new List<Divergence>();
        foreach (var py in python)
        {
            foreach (var (module, name) in py.Globals.Distinct())
            {
                // CPython maps Python 2 names only below protocol 3, our VM at every protocol: either name counts.
                bool reported = ours.Seen.Contains(OurSide.Reported(module, name)) || ours.Seen.Contains($"{module}.{name}");
                bool allowed = OurSide.IsAllowed(module, name);
                string g = Canon.Text($"{module}.{name}");
                if (!reported && ours.Finished)
                {
                    found.Add(new(DivergenceKind.HiddenGlobal, py.Driver, $"Python imported {g}; our VM finished without naming it ({ours.Describe()})"));
                }
                else if (!reported && !allowed)
                {
                    found.Add(new(DivergenceKind.HiddenBehindRefusal, py.Driver, $"Python imported {g}; we refused without naming it ({ours.Describe()})"));
                }
                else if (reported && !allowed && ours.Error is not CheckpointUnsafeException)
                {
                    found.Add(new(DivergenceKind.UnsafeNotRefusedAsUnsafe, py.Driver, $"Python imported {g}; we named it but answered {ours.Describe()}"));
                }
            }
            if (ours.Accepted && py.Ok && py.Root != Canon.TooBig && py.Root != ours.Root)
            {
                found.Add(new(DivergenceKind.WrongData, py.Driver, $"Python built {Short(py.Root)}; we built {Short(ours.Root)}"));
            }
            // A MemoryError is the oracle's 256 MiB address-space cap (e.g. CPython sizes its memo array from the largest
            // LONG_BINPUT index): machine-dependent, so not an answer to compare.
            if (ours.Accepted && !py.Ok && py.Error?.StartsWith("MemoryError", StringComparison.Ordinal) != true)
            {
                found.Add(new(DivergenceKind.AcceptsInvalid, py.Driver, $"Python failed ({py.Error}); we returned data {Short(ours.Root)}"));
            }
        }
        return found;
    }

    /// <summary>The first 16 hex digits of the input's SHA-256: how the allow-list of known-open divergences names it.</summary>
    public static string Id(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data))[..16];

    private static string Short(string? s) => s is null ? "(nothing)" : s.Length <= 400 ? s : s[..400] + "…";
}
