using System.Buffers.Binary;

namespace StateDict.Containers;

/// <summary>
/// Checks a zip's end-of-central-directory records (classic and zip64) before the zip library sees them,
/// so an entry count or directory size read from the file can never size an allocation beyond the file.
/// </summary>
internal static class ZipDirectory
{
    private const int EndRecordSize = 22;
    private const int MaxCommentLength = 0xFFFF;
    private const int MinCentralEntrySize = 46;

    public static void Validate(CheckpointFile file, CheckpointLimits limits)
    {
        int tailLength = (int)Math.Min(file.Length, EndRecordSize + MaxCommentLength);
        var tail = new byte[tailLength];
        file.ReadExactly(file.Length - tailLength, tail, "the zip end-of-central-directory search window");

        int end = tail.AsSpan().LastIndexOf("PK\x05\x06"u8);
        if (end < 0 || end + EndRecordSize > tail.Length)
        {
            throw new CheckpointCorruptException(file.Path, "zip archive has no end-of-central-directory record (truncated or not a zip)");
        }
        long endOffset = file.Length - tailLength + end;
        var record = tail.AsSpan(end, EndRecordSize);
        // SharpZipLib sizes its entry array from the "entries on this disk" count, the rest from the total: bound both.
        ulong entries = Math.Max(BinaryPrimitives.ReadUInt16LittleEndian(record[8..]), BinaryPrimitives.ReadUInt16LittleEndian(record[10..]));
        ulong directorySize = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        ulong directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);

        if (end >= 20 && tail.AsSpan(end - 20, 4).SequenceEqual("PK\x06\x07"u8))
        {
            ulong zip64EndOffset = BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(end - 20 + 8));
            if (zip64EndOffset > (ulong)Math.Max(0, endOffset - 56))
            {
                throw new CheckpointCorruptException(file.Path, $"zip64 end record offset {zip64EndOffset} lies outside the file");
            }
            var zip64 = new byte[56];
            file.ReadExactly((long)zip64EndOffset, zip64, "the zip64 end-of-central-directory record");
            if (!zip64.AsSpan(0, 4).SequenceEqual("PK\x06\x06"u8))
            {
                throw new CheckpointCorruptException(file.Path, $"zip64 end record at byte {zip64EndOffset} has a bad signature");
            }
            entries = Math.Max(BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(24)), BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(32)));
            directorySize = BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(40));
            directoryOffset = BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(48));
        }

        if (directoryOffset > (ulong)file.Length || directorySize > (ulong)file.Length - directoryOffset)
        {
            throw new CheckpointCorruptException(file.Path,
                $"zip central directory ({directorySize} bytes at {directoryOffset}) lies outside the {file.Length}-byte file");
        }
        if (entries > directorySize / MinCentralEntrySize)
        {
            throw new CheckpointCorruptException(file.Path,
                $"zip directory claims {entries} entries but its {directorySize} bytes can hold at most {directorySize / MinCentralEntrySize}");
        }
        if (entries > (ulong)limits.MaxEntries)
        {
            throw new CheckpointCorruptException(file.Path,
                $"zip directory has {entries} entries, over the budget of {limits.MaxEntries} (CheckpointLimits.MaxEntries)");
        }
    }
}
