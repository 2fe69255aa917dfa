using System.Buffers.Binary;

namespace StateDict.Containers;

/// <summary>Where a zip's central directory is, and how many entries it lists (on this disk, as zip readers count them).</summary>
internal readonly record struct ZipDirectoryLocation(long Offset, long Size, long Entries);

/// <summary>
/// Checks a zip's end-of-central-directory records (classic and zip64) before the directory is read,
/// so an entry count or directory size read from the file can never size an allocation beyond the file.
/// </summary>
internal static class ZipDirectory
{
    private const int EndRecordSize = 22;
    private const int MaxCommentLength = 0xFFFF;
    private const int MinCentralEntrySize = 46;

    public static ZipDirectoryLocation Validate(CheckpointFile file, CheckpointLimits limits)
    {
        int tailLength = (int)Math.Min(file.Length, EndRecordSize + MaxCommentLength);
        // Through the mapping, as the directory itself is read: no copy of the search window.
        var tail = file.Peek(file.Length - tailLength, tailLength, "the zip end-of-central-directory search window");

        int end = tail.LastIndexOf("PK\x05\x06"u8);
        if (end < 0 || end + EndRecordSize > tail.Length)
        {
            throw new CheckpointCorruptException(file.Path, "zip archive has no end-of-central-directory record (truncated or not a zip)");
        }
        long endOffset = file.Length - tailLength + end;
        var record = tail.Slice(end, EndRecordSize);
        // Readers walk the "entries on this disk" count, some size arrays from the total: bound both.
        ulong onThisDisk = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
        ulong entries = Math.Max(onThisDisk, BinaryPrimitives.ReadUInt16LittleEndian(record[10..]));
        ulong directorySize = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        ulong directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);

        if (end >= 20 && tail.Slice(end - 20, 4).SequenceEqual("PK\x06\x07"u8))
        {
            ulong zip64EndOffset = BinaryPrimitives.ReadUInt64LittleEndian(tail[(end - 20 + 8)..]);
            if (zip64EndOffset > (ulong)Math.Max(0, endOffset - 56))
            {
                throw new CheckpointCorruptException(file.Path, $"zip64 end record offset {zip64EndOffset} lies outside the file");
            }
            var zip64 = file.Peek((long)zip64EndOffset, 56, "the zip64 end-of-central-directory record");
            if (!zip64[..4].SequenceEqual("PK\x06\x06"u8))
            {
                throw new CheckpointCorruptException(file.Path, $"zip64 end record at byte {zip64EndOffset} has a bad signature");
            }
            onThisDisk = BinaryPrimitives.ReadUInt64LittleEndian(zip64[24..]);
            entries = Math.Max(onThisDisk, BinaryPrimitives.ReadUInt64LittleEndian(zip64[32..]));
            directorySize = BinaryPrimitives.ReadUInt64LittleEndian(zip64[40..]);
            directoryOffset = BinaryPrimitives.ReadUInt64LittleEndian(zip64[48..]);
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
        return new ZipDirectoryLocation((long)directoryOffset, (long)directorySize, (long)onThisDisk);
    }
}
