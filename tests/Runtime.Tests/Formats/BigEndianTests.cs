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

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    public void Slices_and_parts_of_a_big_endian_archive_are_swapped_like_full_reads(TensorMemory memory)
    {
        // 2 MB and 12 MB float tensors: slices and CopyTo parts from 8 MiB are read in parts on several threads, each
        // swapped on its own, so a part edge must never split an element.
        using var temp = new TempFile([]);
        var data = Enumerable.Range(0, 3_000_000).Select(i => i * 0.25f).ToArray();
        new StateDictWriter().Add<float>("a", [500, 1000], data[..500_000]).Add<float>("b", [3000, 1000], data).Save(temp.Path);
        using var file = new TempFile(BigEndianCopyOf(temp.Path));
        using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Memory = memory });

        Assert.Equal(data[3_000..2_403_000], checkpoint.ReadSlice<float>("b", 3..2403).ToArray());
        var part = new float[2_200_003];
        checkpoint.CopyTo("b", 77, part.AsSpan());
        Assert.Equal(data[77..2_200_080], part);
        Assert.Equal(data[..500_000], checkpoint.Read<float>("a").ToArray());
    }

    /// <summary>The fixture rewritten with every storage's elements byte-swapped and a byteorder record.</summary>
    private static byte[] BigEndianCopy(string fixture, string byteOrder = "big") => BigEndianCopyOf(Fixtures.PathOf(fixture), byteOrder);

    private static byte[] BigEndianCopyOf(string path, string byteOrder = "big")
    {
        using var source = Checkpoint.Open(path);
        var unitOf = source.Tensors.Values.GroupBy(t => t.StorageKey).ToDictionary(
            g => g.Key,
            g => g.First().DType is DType.Complex64 or DType.Complex128 ? g.First().DType.ElementSize() / 2 : g.First().DType.ElementSize());
        using var original = ZipFile.OpenRead(path);
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
                if (name == "byteorder")
                {
                    continue; // torch >= 2.1 and our writer say "little": replaced below
                }
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
