using System.IO.Compression;
using System.Text;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>scan reads every zip member, whatever its name; Open refuses records outside the archive folder, as PyTorch does.</summary>
public class ArchiveMemberScanTests
{
    // What pickle.dumps(os.system-reducing object, protocol=0) writes on Linux.
    private static readonly byte[] OsSystem = Encoding.ASCII.GetBytes("cposix\nsystem\n(Vtrue\ntR.");

    private static string Zip(params (string Name, byte[] Data)[] members)
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-members-{Guid.NewGuid():N}.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, data) in members)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                stream.Write(data);
            }
        }
        return path;
    }

    [Fact]
    public void A_pickle_in_a_member_not_named_pkl_is_scanned()
    {
        string path = Zip(("notes/data.txt", OsSystem));
        try
        {
            var report = CheckpointScanner.Scan(path);
            Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
            Assert.Contains(report.Unsafe, g => g.Name == "posix.system");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_record_outside_the_archive_folder_is_refused_by_open_and_scanned_by_scan()
    {
        byte[] dataPkl = Encoding.ASCII.GetBytes("}.");
        string path = Zip(("archive/data.pkl", dataPkl), ("archive/version", "3\n"u8.ToArray()), ("constants.pkl", OsSystem));
        try
        {
            var e = Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Open(path));
            Assert.Contains("'constants.pkl'", e.Message, StringComparison.Ordinal);
            Assert.Contains("not in a subdirectory", e.Message, StringComparison.Ordinal);

            var report = CheckpointScanner.Scan(path);
            Assert.Equal(ScanVerdict.Unsafe, report.Verdict);
            Assert.Contains(report.Unsafe, g => g.Name == "posix.system");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
