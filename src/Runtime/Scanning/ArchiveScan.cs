using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using StateDict.Containers;
using StateDict.Pickle;

namespace StateDict;

/// <summary>
/// Scans every member of a zip archive, whatever its name, read where the central directory places it (as PyTorch
/// does): <c>*.pkl</c> records as pickles; any other member whose bytes open like a pickle is sniffed with the VM
/// and scanned when it is one; an <c>.npy</c> member (<c>\x93NUMPY</c>) holding an object array is the pickle after
/// its header (what <c>np.load(allow_pickle=True)</c> unpickles). A member that cannot be read (encrypted, another
/// compression method, damaged) is reported unscanned, which keeps the verdict from being clean.
/// </summary>
internal sealed partial class ArchiveScan(ScanRun run, CheckpointFile file, string part, int depth)
{
    private static readonly byte[] NumpyMagic = [0x93, .. "NUMPY"u8]; // not "\x93NUMPY"u8: that is U+0093, two bytes in UTF-8

    public string Run()
    {
        var limits = run.Limits;
        using var records = ZipRecords.Open(file, limits, byDirectory: true);
        var names = records.Names.ToList();
        // torch.load reads the folder of the first record, and tells TorchScript archives apart by its constants.pkl.
        string prefix = names.Count > 0 && names[0].IndexOf('/') is var slash and > 0 ? names[0][..(slash + 1)] : "";
        var format = names.Contains(prefix + "constants.pkl", StringComparer.Ordinal) ? CheckpointFormat.TorchScript : CheckpointFormat.Zip;
        foreach (var name in names)
        {
            Member(records, name, format);
        }
        return format == CheckpointFormat.TorchScript ? "torchscript" : "zip";
    }

    private void Member(ZipRecords records, string name, CheckpointFormat format)
    {
        if (records.IsEncrypted(name))
        {
            run.Unscanned(part + name, "encrypted (zip general-purpose flag bit 0)");
            return;
        }
        if (records.SizeOf(name) == 0)
        {
            return;
        }
        bool pickleName = name.EndsWith(".pkl", StringComparison.Ordinal) || name.EndsWith("debug_pkl", StringComparison.Ordinal);
        try
        {
            if (pickleName)
            {
                run.Pickles(records.View(name, run.Limits.MaxPickleBytes, "CheckpointLimits.MaxPickleBytes"), part + name, 16, format, depth);
                return;
            }
            Sniff(records, name, format);
        }
        catch (CheckpointException e) when (e is not CheckpointUnsafeException)
        {
            run.Unscanned(part + name, e.Problem);
        }
    }

    /// <summary>Scans a member not named as a pickle when its bytes are one, or an .npy object array.</summary>
    private void Sniff(ZipRecords records, string name, CheckpointFormat format)
    {
        var data = records.ViewPrefix(name, run.Limits.MaxPickleBytes, "CheckpointLimits.MaxPickleBytes");
        if (data.StartsWith(NumpyMagic))
        {
            if (NumpyPickleStart(data, name) is { } start)
            {
                run.Pickles(data[start..], $"{part}{name} (numpy object array at byte {start})", 1, format, depth);
            }
            return;
        }
        bool opensPickle = (data.Length >= 2 && data[0] == (byte)PickleOpcode.Proto && data[1] <= 5) || ContainerDetector.MayStartUnframedPickle(data[0]);
        if (opensPickle)
        {
            run.Sniffed(data, part + name, format, depth);
        }
    }

    /// <summary>Where the pickle of an .npy object array starts (after the header), or null for a plain array.</summary>
    private int? NumpyPickleStart(ReadOnlySpan<byte> data, string name)
    {
        // \x93NUMPY, major, minor, header length (u16 in version 1, u32 in 2 and 3), header text.
        if (data.Length < 10)
        {
            throw new CheckpointCorruptException(file.Path, $"{part}{name}: an .npy header shorter than 10 bytes");
        }
        int major = data[6];
        int lengthSize = major == 1 ? 2 : 4;
        if (data.Length < 8 + lengthSize)
        {
            throw new CheckpointCorruptException(file.Path, $"{part}{name}: a truncated .npy header");
        }
        long headerLength = lengthSize == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(data[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        long start = 8 + lengthSize + headerLength;
        if (start > data.Length)
        {
            throw new CheckpointCorruptException(file.Path, $"{part}{name}: the .npy header declares {headerLength} bytes but the member has {data.Length}");
        }
        string header = Encoding.Latin1.GetString(data[(8 + lengthSize)..(int)start]);
        return ObjectField().IsMatch(header) ? (int)start : null;
    }

    /// <summary>A dtype descr (or a field of one) that is Python objects: 'O', '|O', '&lt;O' …</summary>
    [GeneratedRegex(@"['""][|<>=]?O\d*['""]")]
    private static partial Regex ObjectField();
}
