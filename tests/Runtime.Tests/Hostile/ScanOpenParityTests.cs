using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// scan and Open decide unsafety from one policy: over every file of every corpus in the repository (the fixtures,
/// the malicious catalogue, the payload forms, the fuzz regressions, the differential lane's seeds and regressions), Open refusing a file as unsafe implies scan
/// calls it unsafe, and scan calling a file clean implies Open does not refuse it as unsafe.
/// </summary>
public class ScanOpenParityTests
{
    public static TheoryData<string> EveryCorpusFile()
    {
        var roots = new[]
        {
            Fixtures.Directory, Path.Combine(AppContext.BaseDirectory, "Hostile", "Regressions", "inputs"),
            Path.Combine(AppContext.BaseDirectory, "differential"),
        };
        return [.. roots.Where(System.IO.Directory.Exists)
            .SelectMany(r => System.IO.Directory.EnumerateFiles(r, "*", SearchOption.AllDirectories))
            .Where(p => !p.EndsWith(".json", StringComparison.Ordinal) && !p.EndsWith(".py", StringComparison.Ordinal) && !p.EndsWith(".md", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(AppContext.BaseDirectory, p))
            .Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(EveryCorpusFile))]
    public void Open_refusing_as_unsafe_means_scan_says_unsafe(string file)
    {
        string path = Path.Combine(AppContext.BaseDirectory, file);
        bool openRefusedAsUnsafe = false;
        try
        {
            using var checkpoint = Checkpoint.Open(path);
        }
        catch (CheckpointUnsafeException)
        {
            openRefusedAsUnsafe = true;
        }
        catch (CheckpointException)
        {
            // Unreadable or unsupported: no claim about safety either way.
        }

        var report = CheckpointScanner.Scan(path);

        if (openRefusedAsUnsafe)
        {
            Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
        }
        if (report.Verdict == ScanVerdict.Clean)
        {
            Assert.False(openRefusedAsUnsafe);
        }
    }
}
