using System.Diagnostics;

namespace StateDict.Fuzz.Differential;

/// <summary>
/// The CI lane: every seed, every regression input, the <see cref="TextCases"/>, then <c>mutations</c> deterministic mutations of the seeds, each
/// through both sides. Divergences on inputs the allow-list names (known-open, fixes pending elsewhere) are printed and
/// counted but do not fail; any other divergence fails the lane (exit 1) and is written to fuzz/Differential/new/.
/// </summary>
internal static class Lane
{
    /// <summary>The lane stops mutating after this long (inputs stay deterministic; a slow machine runs fewer).</summary>
    private static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(50);

    /// <summary>How many <see cref="TextCases"/> the lane runs (each twice: alone, and followed by a global).</summary>
    private const int TextCaseCount = 3000;

    public static int Run(string seedsDir, string regressionsDir, string allowFile, int mutations, int rngSeed)
    {
        var knownOpen = KnownOpen.Load(allowFile);
        var seeds = Directory.GetFiles(seedsDir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        var regressions = Directory.Exists(regressionsDir)
            ? Directory.GetFiles(regressionsDir).Order(StringComparer.Ordinal).ToList()
            : [];
        var clock = Stopwatch.StartNew();
        using var oracle = Program.StartOracle();
        int inputs = 0, known = 0, fresh = 0;
        var knownIds = new HashSet<string>();
        var knownKinds = new SortedDictionary<DivergenceKind, int>();
        string newDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(allowFile))!, "new");

        void One(byte[] data, string label)
        {
            inputs++;
            long start = clock.ElapsedMilliseconds;
            var ours = OurSide.Run(data);
            long ourMs = clock.ElapsedMilliseconds - start;
            var python = oracle.Ask(data);
            long pythonMs = clock.ElapsedMilliseconds - start - ourMs;
            if (ourMs + pythonMs > 1000 && Environment.GetEnvironmentVariable("DFUZZ_TIMING") == "1")
            {
                Console.WriteLine($"slow: {label} (id {Compare.Id(data)}): ours {ourMs} ms, python {pythonMs} ms");
            }
            var found = Compare.Find(ours, python);
            if (found.Count == 0)
            {
                return;
            }
            string id = Compare.Id(data);
            if (knownOpen.Covers(id, found))
            {
                known++;
                foreach (var kind in found.Select(d => d.Kind).Distinct())
                {
                    knownKinds[kind] = knownKinds.GetValueOrDefault(kind) + 1;
                }
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
        int textCases = 0;
        foreach (var data in TextCases.Generate(rngSeed, TextCaseCount))
        {
            One(data, $"text case {textCases++} (rng seed {rngSeed})");
        }
        var mutator = new Mutator(rngSeed, seeds);
        int done = 0;
        for (; done < mutations; done++)
        {
            if (clock.Elapsed > TimeBudget)
            {
                Console.WriteLine($"differential lane: time budget of {TimeBudget.TotalSeconds} s reached after {done} of {mutations} mutations (slow machine); the rest is skipped");
                break;
            }
            One(mutator.Next(), $"mutation {done} (rng seed {rngSeed})");
        }
        Console.WriteLine($"differential lane: {inputs} inputs ({seeds.Count} seeds, {regressions.Count} regression inputs, {textCases} text cases, {done} mutations) in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"{fresh} new divergences, {known} known-open ({knownIds.Count} distinct inputs; see {Path.GetFileName(allowFile)})");
        if (knownKinds.Count > 0)
        {
            Console.WriteLine($"differential lane: known-open inputs by kind: {string.Join(", ", knownKinds.Select(k => $"{k.Key} {k.Value}"))}");
        }
        return fresh == 0 ? 0 : 1;
    }
}

/// <summary>The known-open list (known-open.txt): input ids and <see cref="KnownRule"/>s.</summary>
internal sealed record KnownOpen(IReadOnlySet<string> Ids, IReadOnlyList<KnownRule> Rules)
{
    public static KnownOpen Load(string? file)
    {
        var entries = file is not null && File.Exists(file)
            ? File.ReadAllLines(file).Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).ToList()
            : [];
        return new KnownOpen(
            entries.Where(e => !e.StartsWith("kind:", StringComparison.Ordinal)).Select(e => e.Split(' ', 2)[0]).ToHashSet(),
            entries.Where(e => e.StartsWith("kind:", StringComparison.Ordinal)).Select(KnownRule.Parse).ToList());
    }

    /// <summary>Whether the input's divergences are all known-open: its id is listed, or a rule covers each.</summary>
    public bool Covers(string id, IReadOnlyList<Divergence> found) => Ids.Contains(id) || found.All(d => Rules.Any(r => r.Matches(d)));
}

/// <summary>
/// A known-open class of divergences: <c>kind:KIND [driver:DRIVER] [~TEXT]</c>, where TEXT must occur in the
/// divergence's detail (e.g. our refusal's message). An input is known-open when every divergence it shows matches a rule.
/// </summary>
internal sealed record KnownRule(DivergenceKind Kind, string? Driver, string? Text)
{
    public static KnownRule Parse(string line)
    {
        int tilde = line.IndexOf('~', StringComparison.Ordinal);
        string? text = tilde < 0 ? null : line[(tilde + 1)..].Trim();
        var words = (tilde < 0 ? line : line[..tilde]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var kind = Enum.Parse<DivergenceKind>(words[0]["kind:".Length..]);
        string? driver = words.Skip(1).FirstOrDefault(w => w.StartsWith("driver:", StringComparison.Ordinal))?["driver:".Length..];
        return new KnownRule(kind, driver, text);
    }

    public bool Matches(Divergence d) =>
        d.Kind == Kind && (Driver is null || d.Driver == Driver) && (Text is null || d.Detail.Contains(Text, StringComparison.Ordinal));
}
