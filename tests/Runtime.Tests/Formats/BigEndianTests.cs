using System.IO.Compression;
using StateDict.Tests.Hostile;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Formats;

/// <summary>
/// A zip whose <c>byteorder</c> record says "big" (what torch ≥ 2.1 writes on big-endian machines) holds storages in
/// big-endian order; they are swapped on read, element by element (complex numbers part by part).
/// </summary>
public class BigEndianTests
{
    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void A_big_endian_archive_reads_the_same_tensors_as_the_little_endian_one(TensorMemory memory)
    {
        using var file = new TempFile(BigEndianCopy("dtypes.pth"));
        using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Memory = memory });

        CheckpointAssert.TensorsMatch(Fixtures.ExpectedFor("dtypes.pth"), checkpoint);
    }

    [Fact]
    public void A_byteorder_record_that_is_neither_little_nor_big_is_corrupt()
    {
        using var file = new TempFile(BigEndianCopy("mlp.pth", byteOrder: "middle"));

        var e = Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Open(file.Path));
        Assert.Contains("byteorder record says 'middle'", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The fixture rewritten with every storage's elements byte-swapped and a byteorder record.</summary>
    private static byte[] BigEndianCopy(string fixture, string byteOrder = "big")
    {
        using var source = Checkpoint.Open(Fixtures.PathOf(fixture));
        var unitOf = source.Tensors.Values.GroupBy(t => t.StorageKey).ToDictionary(
            g => g.Key,
            g => g.First().DType is DType.Complex64 or DType.Complex128 ? g.First().DType.ElementSize() / 2 : g.First().DType.ElementSize());
        using var original = ZipFile.OpenRead(Fixtures.PathOf(fixture));
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            string prefix = original.Entries.First(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).FullName[..^"data.pkl".Length];
            foreach (var entry in original.Entries)
            {
                using var input = entry.Open();
                using var buffer = new MemoryStream();
                input.CopyTo(buffer);
                var bytes = buffer.ToArray();
                string name = entry.FullName[prefix.Length..];
                if (name.StartsWith("data/", StringComparison.Ordinal) && unitOf[name["data/".Length..]] is var unit and > 1)
                {
                    for (int i = 0; i + unit <= bytes.Length; i += unit)
                    {
                        Array.Reverse(bytes, i, unit);
                    }
                }
                Write(zip, entry.FullName, bytes);
            }
            Write(zip, prefix + "byteorder", System.Text.Encoding.ASCII.GetBytes(byteOrder));
        }
        return output.ToArray();
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(bytes);
    }
}
