using System.Diagnostics;
using SharpFuzz;

namespace StateDict.Fuzz.Differential;

/// <summary>
/// The differential lane's driver (see fuzz/README.md). Modes:
/// <list type="bullet">
/// <item>no arguments: the AFL++ target (SharpFuzz): each input runs through our side in-process and through the
/// oracle process; a divergence throws, so AFL saves the input as a crash. DFUZZ_IGNORE lists kinds not to crash on;
/// DFUZZ_KNOWN names a known-open list (known-open.txt) whose classes do not crash either, so AFL hunts for new ones.</item>
/// <item><c>--ci SEEDS REGRESSIONS ALLOWLIST MUTATIONS RNGSEED</c>: seeds, regression inputs, then deterministic
/// mutations; exit 1 on any divergence whose input the allow-list of known-open ones does not name.</item>
/// <item><c>--check FILE...</c>: prints both sides' answers and every divergence of each file.</item>
/// <item><c>--minimize IN OUT</c>: shrinks an input while it keeps diverging the same way.</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            return args switch
            {
                [] => Fuzz(),
                ["--ci", var seeds, var regressions, var allow, var mutations, var rng] =>
                    Lane.Run(seeds, regressions, allow, int.Parse(mutations, System.Globalization.CultureInfo.InvariantCulture), int.Parse(rng, System.Globalization.CultureInfo.InvariantCulture)),
                ["--check", .. var files] => Check(files),
                ["--minimize", var input, var output] => Minimize(input, output),
                _ => Usage(),
            };
        }
        catch (OraclePythonMissingException)
        {
            Console.WriteLine("differential lane: skipped, no python3 for the CPython oracle");
            return 0;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: (AFL target, no arguments) | --ci SEEDS REGRESSIONS ALLOWLIST MUTATIONS RNGSEED | --check FILE... | --minimize IN OUT");
        return 2;
    }

    internal static Oracle StartOracle() => Oracle.Start(Oracle.FindPython() ?? throw new OraclePythonMissingException());

    private static int Fuzz()
    {
        var ignored = (Environment.GetEnvironmentVariable("DFUZZ_IGNORE") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Enum.Parse<DivergenceKind>).ToHashSet();
        var known = KnownOpen.Load(Environment.GetEnvironmentVariable("DFUZZ_KNOWN"));
        Oracle? oracle = null;
        Fuzzer.OutOfProcess.Run(stream =>
        {
            // Started in the process that runs the inputs (SharpFuzz's child), once; it exits when our pipe closes.
            oracle ??= StartOracle();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] data = buffer.ToArray();
            var found = Compare.Find(OurSide.Run(data), oracle.Ask(data)).Where(d => !ignored.Contains(d.Kind)).ToList();
            if (found.Count > 0 && !known.Covers(Compare.Id(data), found))
            {
                throw new DivergenceException(string.Join("\n", found));
            }
        });
        return 0;
    }

    private static int Check(string[] files)
    {
        using var oracle = StartOracle();
        int diverging = 0;
        foreach (string file in files)
        {
            byte[] data = File.ReadAllBytes(file);
            var ours = OurSide.Run(data);
            var python = oracle.Ask(data);
            Console.WriteLine($"== {file} ({data.Length} bytes, id {Compare.Id(data)})");
            Console.WriteLine($"   ours: {ours.Describe()}; globals named: {string.Join(", ", ours.Seen.Order(StringComparer.Ordinal))}");
            Console.WriteLine($"   ours: {Cut(ours.Root)}");
            foreach (var py in python)
            {
                Console.WriteLine($"   python [{py.Driver}]: {(py.Ok ? "finished" : $"failed: {py.Error}")}; imported: {string.Join(", ", py.Globals.Select(g => $"{g.Module}.{g.Name}"))}");
                Console.WriteLine($"   python [{py.Driver}]: {Cut(py.Root)}");
            }
            var found = Compare.Find(ours, python);
            diverging += found.Count > 0 ? 1 : 0;
            foreach (var d in found)
            {
                Console.WriteLine($"   DIVERGENCE {d}");
            }
        }
        return diverging == 0 ? 0 : 1;
    }

    private static string Cut(string? s) => s is null ? "(no value)" : s.Length <= 600 ? s : s[..600] + "…";

    /// <summary>Greedy delta debugging: drop chunks (halving their size) while the input keeps the same divergence kinds.</summary>
    private static int Minimize(string input, string output)
    {
        using var oracle = StartOracle();
        byte[] data = File.ReadAllBytes(input);
        string Signature(byte[] d) => string.Join(",", Compare.Find(OurSide.Run(d), oracle.Ask(d)).Select(x => x.Kind).Distinct().Order());
        string target = Signature(data);
        if (target.Length == 0)
        {
            Console.Error.WriteLine("the input does not diverge");
            return 1;
        }
        for (int chunk = Math.Max(1, data.Length / 2); chunk >= 1; chunk /= 2)
        {
            for (int at = 0; at + chunk <= data.Length;)
            {
                byte[] candidate = [.. data.AsSpan(0, at), .. data.AsSpan(at + chunk)];
                if (Signature(candidate) == target)
                {
                    data = candidate;
                }
                else
                {
                    at += chunk;
                }
            }
        }
        File.WriteAllBytes(output, data);
        Console.WriteLine($"{target}: {data.Length} bytes -> {output}");
        return 0;
    }
}

/// <summary>Thrown in the AFL target so that SharpFuzz reports the input as a crash.</summary>
public sealed class DivergenceException(string message) : Exception(message);

internal sealed class OraclePythonMissingException : Exception;
