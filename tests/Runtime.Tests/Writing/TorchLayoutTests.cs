using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Writing;

/// <summary>The .pth writer's output is torch.save's, down to the byte, and its zip layout follows FORMATS.md §1.</summary>
public sealed class TorchLayoutTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("statedict-layout-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>
    /// Fixtures torch 1.13 saved from a plain dict (no <c>_metadata</c>): read and written again with torch 1.13's
    /// settings (a plain dict, no byteorder record, which 1.13 did not write yet), they come out identical.
    /// </summary>
    [Theory]
    [InlineData("dtypes.pth")]
    [InlineData("views.pth")]
    [InlineData("parameters.pth")]
    public void Writes_the_same_bytes_as_torch_save(string name)
    {
        string written = Path.Combine(_directory, name);
        using (var source = Checkpoint.Open(Fixtures.PathOf(name)))
        using (var stream = File.Create(written))
        {
            StateDictWriter.From(source).Write(stream, SaveFormat.Pth, Path.GetFileNameWithoutExtension(name), new SaveOptions(),
                byteOrderRecord: false, plainDict: true);
        }
        byte[] ours = File.ReadAllBytes(written);
        byte[] torchs = File.ReadAllBytes(Fixtures.PathOf(name));
        int first = ours.AsSpan().CommonPrefixLength(torchs);
        Assert.True(first == ours.Length && ours.Length == torchs.Length,
            $"differs from torch.save's {name} at byte {first} (ours {ours.Length} bytes, torch's {torchs.Length})");
    }

    [Fact]
    public void Records_are_stored_aligned_and_described_as_torch_writes_them()
    {
        string path = Path.Combine(_directory, "my.model.pth");
        using (var source = Checkpoint.Open(Fixtures.PathOf("views.pth")))
        {
            source.Save(path);
        }
        byte[] file = File.ReadAllBytes(path);
        var records = ZipLayout.Parse(file);

        // Prefix = the file name up to its last dot; data.pkl first, byteorder, storages sorted as strings, version last.
        Assert.Equal(["my.model/data.pkl", "my.model/byteorder", "my.model/data/0", "my.model/data/1", "my.model/data/2",
            "my.model/data/3", "my.model/data/4", "my.model/data/5", "my.model/version"], records.Select(r => r.Name));
        Assert.Equal("3\n", Encoding.ASCII.GetString(records[^1].Data(file)));
        Assert.Equal("little", Encoding.ASCII.GetString(records[1].Data(file)));
        foreach (var record in records)
        {
            Assert.Equal(0, record.DataOffset % 64);
            Assert.Equal(record.Size == 0 ? 0x0800 : 0x0808, record.Flags);
            Assert.Equal(0, record.Method);
            Assert.Equal(0u, record.LocalCrc);
            Assert.Equal(0u, record.LocalSize);
            // The padding is an extra field "FB" of 'Z's (possibly empty).
            Assert.Equal((ushort)0x4246, BinaryPrimitives.ReadUInt16LittleEndian(record.LocalExtra));
            Assert.True(record.LocalExtra[4..].All(b => b == (byte)'Z'));
            Assert.Equal(record.Crc, record.DescriptorCrc);
            Assert.Equal(record.Size, record.DescriptorSize);
        }
        Assert.True(ZipLayout.HasZip64End(file));

        // Any zip reader agrees.
        using var zip = new ZipArchive(new MemoryStream(file));
        Assert.Equal(records.Select(r => r.Name), zip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void Zip64_fields_when_sizes_and_offsets_pass_the_threshold_still_read_back()
    {
        // Real zip64 needs 4 GiB; the threshold is lowered so every size and offset takes the zip64 path.
        string path = Path.Combine(_directory, "mlp.pth");
        using (var source = Checkpoint.Open(Fixtures.PathOf("mlp.pth")))
        using (var stream = File.Create(path))
        {
            StateDictWriter.From(source).Write(stream, SaveFormat.Pth, "mlp", new SaveOptions(), zip64Threshold: 100, zip64OffsetThreshold: 100);
        }
        byte[] file = File.ReadAllBytes(path);
        var records = ZipLayout.Parse(file);
        Assert.All(records, r => Assert.Equal(0, r.DataOffset % 64));
        Assert.Contains(records, r => r.CentralSize32 == uint.MaxValue);
        Assert.Contains(records, r => r.CentralOffset32 == uint.MaxValue);

        using var copy = Checkpoint.Open(path);
        var expected = Fixtures.ExpectedFor("mlp.pth");
        Assert.Equal(expected.Tensors.Select(t => t.Key), copy.Tensors.Keys);
        foreach (var want in expected.Tensors)
        {
            Assert.Equal(want.Sha256, RoundTripTests.Sha256(copy, want.Key));
        }
        using var zip = new ZipArchive(new MemoryStream(file));
        Assert.Equal(records.Select(r => r.Name), zip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void Stream_archives_are_named_archive_like_torch_save_to_a_buffer()
    {
        var writer = new StateDictWriter().Add<float>("w", [2], [1f, 2f]);
        using var buffer = new MemoryStream();
        writer.Save(buffer, SaveFormat.Pth);
        Assert.Equal("archive/data.pkl", ZipLayout.Parse(buffer.ToArray())[0].Name);
    }
}

/// <summary>A strict walk over a zip file's local headers, data descriptors and central directory.</summary>
internal static class ZipLayout
{
    internal sealed record Record(string Name, long HeaderOffset, long DataOffset, long Size, uint Crc, ushort Flags, ushort Method,
        uint LocalCrc, uint LocalSize, byte[] LocalExtra, uint DescriptorCrc, long DescriptorSize, uint CentralSize32, uint CentralOffset32)
    {
        public ReadOnlySpan<byte> Data(byte[] file) => file.AsSpan((int)DataOffset, (int)Size);
    }

    public static List<Record> Parse(byte[] file)
    {
        // End of central directory, then the zip64 one it points to.
        int eocd = file.AsSpan().LastIndexOf("PK\x05\x06"u8);
        Assert.True(eocd >= 0, "no end of central directory");
        long directory = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(eocd + 16));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(eocd + 10));
        int locator = eocd - 20;
        Assert.Equal(0x07064B50u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(locator)));
        long end64 = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(locator + 8));
        Assert.Equal(0x06064B50u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)end64)));
        long directory64 = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan((int)end64 + 48));
        Assert.True(directory == uint.MaxValue || directory == directory64);
        directory = directory64;
        count = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan((int)end64 + 32));

        var records = new List<Record>();
        int at = (int)directory;
        for (int i = 0; i < count; i++)
        {
            var entry = file.AsSpan(at);
            Assert.Equal(0x02014B50u, BinaryPrimitives.ReadUInt32LittleEndian(entry));
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]);
            uint size32 = BinaryPrimitives.ReadUInt32LittleEndian(entry[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[30..]);
            uint offset32 = BinaryPrimitives.ReadUInt32LittleEndian(entry[42..]);
            string name = Encoding.UTF8.GetString(entry.Slice(46, nameLength));
            var extra = entry.Slice(46 + nameLength, extraLength);
            long size = size32, offset = offset32;
            if (size32 == uint.MaxValue || offset32 == uint.MaxValue)
            {
                Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(extra));
                int field = 4;
                if (size32 == uint.MaxValue)
                {
                    size = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra[field..]);
                    field += 16;
                }
                if (offset32 == uint.MaxValue)
                {
                    offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra[field..]);
                }
            }
            var local = file.AsSpan((int)offset);
            Assert.Equal(0x04034B50u, BinaryPrimitives.ReadUInt32LittleEndian(local));
            int localName = BinaryPrimitives.ReadUInt16LittleEndian(local[26..]);
            int localExtra = BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
            Assert.Equal(name, Encoding.UTF8.GetString(local.Slice(30, localName)));
            byte[] localExtraBytes = local.Slice(30 + localName, localExtra).ToArray();
            if (BinaryPrimitives.ReadUInt16LittleEndian(localExtraBytes) == 1)
            {
                // A local zip64 extra comes first; the "FB" padding follows it.
                localExtraBytes = localExtraBytes[(4 + BinaryPrimitives.ReadUInt16LittleEndian(localExtraBytes.AsSpan(2)))..];
            }
            long data = offset + 30 + localName + localExtra;
            // A data descriptor follows every record but an empty one.
            var descriptor = file.AsSpan((int)(data + size));
            bool wide = size >= uint.MaxValue || offset >= uint.MaxValue || size32 == uint.MaxValue || offset32 == uint.MaxValue;
            uint descriptorCrc = 0;
            long descriptorSize = 0;
            if (size > 0)
            {
                Assert.Equal(0x08074B50u, BinaryPrimitives.ReadUInt32LittleEndian(descriptor));
                descriptorCrc = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[4..]);
                descriptorSize = wide ? (long)BinaryPrimitives.ReadUInt64LittleEndian(descriptor[16..]) : BinaryPrimitives.ReadUInt32LittleEndian(descriptor[12..]);
            }
            records.Add(new Record(name, offset, data, size, crc, BinaryPrimitives.ReadUInt16LittleEndian(local[6..]),
                BinaryPrimitives.ReadUInt16LittleEndian(local[8..]), BinaryPrimitives.ReadUInt32LittleEndian(local[14..]),
                BinaryPrimitives.ReadUInt32LittleEndian(local[22..]), localExtraBytes, descriptorCrc,
                descriptorSize, size32, offset32));
            at += 46 + nameLength + extraLength + BinaryPrimitives.ReadUInt16LittleEndian(entry[32..]);
        }
        return records;
    }

    public static bool HasZip64End(byte[] file) => file.AsSpan().LastIndexOf("PK\x06\x06"u8) >= 0;
}
