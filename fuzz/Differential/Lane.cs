using System.Diagnostics;

namespace StateDict.Fuzz.Differential;

/// <summary>
/// The CI lane: every seed, every regression input, then <c>mutations</c> deterministic mutations of the seeds, each
/// through both sides. Divergences on inputs the allow-list names (known-open, fixes pending elsewhere) are printed and
/// counted but do not fail; any other divergence fails the lane (exit 1) and is written to fuzz/Differential/new/.
/// </summary>
internal static class Lane
{
    public static int Run(string seedsDir, string regressionsDir, string allowFile, int mutations, int rngSeed)
    {
        var allowed = File.Exists(allowFile)
            ? File.ReadAllLines(allowFile).Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).Select(l => l.Split(' ', 2)[0]).ToHashSet()
            : [];
        var seeds = Directory.GetFiles(seedsDir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        var regressions = Directory.Exists(regressionsDir)
            ? Directory.GetFiles(regressionsDir).Order(StringComparer.Ordinal).ToList()
            : [];
        var clock = Stopwatch.StartNew();
        using var oracle = Program.StartOracle();
        int inputs = 0, known = 0, fresh = 0;
        var knownIds = new HashSet<string>();
        string newDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(allowFile))!, "new");

        void One(byte[] data, string label)
        {
            inputs++;
            var found = Compare.Find(OurSide.Run(data), oracle.Ask(data));
            if (found.Count == 0)
            {
                return;
            }
            string id = Compare.Id(data);
            if (allowed.Contains(id))
            {
                known++;
                knownIds.Add(id);
                return;
            }
            fresh++;
            Directory.CreateDirectory(newDir);
            File.WriteAllBytes(Path.Combine(newDir, id + ".pkl"), data);
            Console.WriteLine($"DIVERGENCE on {label} (id {id}, saved to {Path.Combine(newDir, id + ".pkl")}):");
            foreach (var d in found)
            {
                Console.WriteLine($"  {d}");
            }
        }

        foreach (var (data, i) in seeds.Select((d, i) => (d, i)))
        {
            One(data, $"seed {i}");
        }
        foreach (string file in regressions)
        {
            One(File.ReadAllBytes(file), Path.GetFileName(file));
        }
        var mutator = new Mutator(rngSeed, seeds);
        for (int i = 0; i < mutations; i++)
        {
            One(mutator.Next(), $"mutation {i} (rng seed {rngSeed})");
        }
        Console.WriteLine($"differential lane: {inputs} inputs ({seeds.Count} seeds, {regressions.Count} regression inputs, {mutations} mutations) in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"{fresh} new divergences, {known} on known-open inputs ({knownIds.Count} distinct, listed in {Path.GetFileName(allowFile)})");
        return fresh == 0 ? 0 : 1;
    }
}
