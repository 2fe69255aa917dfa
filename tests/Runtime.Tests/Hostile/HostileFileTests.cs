using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using StateDict.Tests.Pickle;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Damaged and malicious files through <see cref="Checkpoint.Open"/>: every prefix and every single-byte change of
/// real fixtures, scrambled zip directories, storages and views that lie about their extent, files that are not
/// checkpoints, compressed and bomb-like zip records, escaping entry names, refused globals, cycles and
/// shared-subtree bombs. Each either reads exactly what PyTorch wrote or fails with a typed
/// <see cref="CheckpointException"/> from a deliberate check, never another exception and never a hang.
/// </summary>
public class HostileFileTests
{
    private static readonly Dictionary<string, byte[]> OneStorage = new() { ["0"] = TorchZip.Floats(1, 2, 3, 4) };

    // ------------------------------------------------------------------ every prefix, every byte

    [Theory]
    [InlineData("sequential.pth")]
    [InlineData("legacy_mlp.pth")]
    public void Every_truncation_reads_identically_or_fails_with_a_checkpoint_exception(string name)
    {
        var original = File.ReadAllBytes(Fixtures.PathOf(name));
        var expected = Read.All(Fixtures.PathOf(name));
        using var file = new TempFile(original);

        var opened = new List<int>();
        for (int length = original.Length; length >= 0; length--)
        {
            file.Truncate(length);
            if (Read.TryAll(file.Path, $"{name} cut to {length} bytes") is { } read)
            {
                AssertSameTensors(expected, read, $"{name} cut to {length} bytes");
                opened.Add(length);
            }
        }

        // Both formats need their last byte: the zip directory is at the end, and legacy storages run to the end.
        Assert.Equal([original.Length], opened);
    }

    [Theory]
    [InlineData("sequential.pth")]
    [InlineData("legacy_mlp.pth")]
    [InlineData("protocol4.pth")]
    public void Every_single_byte_corruption_reads_or_fails_with_a_checkpoint_exception(string name)
    {
        // Flipping tensor bytes legitimately changes values, so only the failure type is checked here.
        var original = File.ReadAllBytes(Fixtures.PathOf(name));
        using var file = new TempFile(original);

        for (int offset = 0; offset < original.Length; offset++)
        {
            file.Poke(offset, (byte)(original[offset] ^ 0xFF));
            Read.TryAll(file.Path, $"{name} with byte {offset} flipped");
            file.Poke(offset, original[offset]);
        }
    }

    // ------------------------------------------------------------------ the zip central directory

    [Fact]
    public void An_overwritten_central_directory_is_corrupt()
    {
        var zip = File.ReadAllBytes(Fixtures.PathOf("sequential.pth"));
        var (start, end) = CentralDirectory(zip);
        zip.AsSpan(start, end - start).Fill(0xAA);

        Read.Fails<CheckpointCorruptException>(zip, "unreadable zip central directory");
    }

    [Fact]
    public void Randomly_scrambled_central_directories_read_identically_or_fail_with_a_checkpoint_exception()
    {
        var original = File.ReadAllBytes(Fixtures.PathOf("sequential.pth"));
        var expected = Read.All(Fixtures.PathOf("sequential.pth"));
        var (start, end) = CentralDirectory(original);
        using var file = new TempFile(original);

        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var zip = (byte[])original.Clone();
            for (int i = random.Next(1, 9); i > 0; i--)
            {
                zip[random.Next(start, end)] = (byte)random.Next(256);
            }
            file.Write(zip);
            if (Read.TryAll(file.Path, $"scramble seed {seed}") is { } read)
            {
                AssertSameTensors(expected, read, $"scramble seed {seed}");
            }
        }
    }

    [Fact]
    public void A_central_directory_entry_pointing_at_another_records_local_header_is_corrupt()
    {
        // Two same-size storages; data/1's directory entry is redirected to data/0's local header.
        var pickle = TorchZip.StateDict(
            ("a", "FloatStorage", "0", 4, 0, [4], [1]),
            ("b", "FloatStorage", "1", 4, 0, [4], [1]));
        var zip = TorchZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1, 2, 3, 4), ["1"] = TorchZip.Floats(5, 6, 7, 8) });
        int local0 = TorchZip.LocalHeaderOf(zip, "archive/data/0");
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(TorchZip.CentralHeaderOf(zip, "archive/data/1") + 42), (uint)local0);

        Read.Fails<CheckpointCorruptException>(zip, $"the central directory places archive/data/1 at byte {local0}, but the local header there names 'archive/data/0'");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the pickle names storage 1 first: the records are checked in file order all the same
    public void Storage_records_whose_bytes_overlap_are_corrupt(bool secondFirst)
    {
        // data/0's sizes are stretched over data/1's local header and bytes: each record still has its own header, but
        // storage 0 would alias storage 1's memory, which torch keeps separate.
        var storages = new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1, 2, 3, 4), ["1"] = TorchZip.Floats(5, 6, 7, 8) };
        byte[] Archive(long bytes0)
        {
            (string, string, string, long, long, long[], long[]) a = ("a", "ByteStorage", "0", bytes0, 0, [bytes0], [1]);
            (string, string, string, long, long, long[], long[]) b = ("b", "FloatStorage", "1", 4, 0, [4], [1]);
            return TorchZip.Build(secondFirst ? TorchZip.StateDict(b, a) : TorchZip.StateDict(a, b), storages);
        }
        var layout = Archive(16);
        int data0 = DataStart(layout, "archive/data/0");
        int end1 = DataStart(layout, "archive/data/1") + 16;
        int stretched = end1 - data0;
        var zip = Archive(stretched);
        foreach (int field in new[] { TorchZip.CentralHeaderOf(zip, "archive/data/0") + 20, TorchZip.CentralHeaderOf(zip, "archive/data/0") + 24,
            TorchZip.LocalHeaderOf(zip, "archive/data/0") + 18, TorchZip.LocalHeaderOf(zip, "archive/data/0") + 22 })
        {
            BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(field), (uint)stretched);
        }
        int start0 = DataStart(zip, "archive/data/0");

        Read.Fails<CheckpointCorruptException>(zip,
            $"records archive/data/0 (bytes {start0}..{start0 + stretched}) and archive/data/1 (from byte {DataStart(zip, "archive/data/1")}) overlap");
    }

    private static int DataStart(byte[] zip, string name)
    {
        int local = TorchZip.LocalHeaderOf(zip, name);
        return local + 30 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 28));
    }

    [Fact]
    public void A_central_directory_claiming_more_entries_than_it_can_hold_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage);
        int eocd = zip.AsSpan().LastIndexOf("PK\x05\x06"u8);
        BinaryPrimitives.WriteUInt16LittleEndian(zip.AsSpan(eocd + 8), 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(zip.AsSpan(eocd + 10), 0xFFFF);

        Read.Fails<CheckpointCorruptException>(zip, "zip directory claims 65535 entries");
    }

    [Fact]
    public void A_central_directory_beyond_the_end_of_the_file_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage);
        int eocd = zip.AsSpan().LastIndexOf("PK\x05\x06"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(eocd + 16), 0x7FFFFFFF);

        Read.Fails<CheckpointCorruptException>(zip, "lies outside the");
    }

    // ------------------------------------------------------------------ storages and views that lie

    [Fact]
    public void Integers_written_as_LONG1_are_read_like_any_int()
    {
        // torch writes numel, offsets, sizes and strides beyond 2^31 with LONG1; they must still be plain ints.
        static PickleBuilder Int(PickleBuilder p, long value) => p.Long1(new System.Numerics.BigInteger(value));
        var pickle = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .BinUnicode("w").Global("torch._utils", "_rebuild_tensor_v2").Mark()
            .Mark().BinUnicode("storage").Global("torch", "FloatStorage").BinUnicode("0").BinUnicode("cpu");
        Int(pickle, 4).Tuple().BinPersId();
        Int(pickle, 1);
        Int(pickle.Mark(), 3).Tuple();
        Int(pickle.Mark(), 1).Tuple();
        pickle.NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce().SetItem().Stop();
        using var file = new TempFile(TorchZip.Build(pickle.ToArray(), OneStorage));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal([2f, 3f, 4f], checkpoint.Read<float>("w").ToArray());
    }

    [Fact]
    public void A_storage_declaring_more_elements_than_its_record_holds_is_corrupt_in_a_real_fixture()
    {
        // sequential.pth: ('storage', torch.FloatStorage, '0', 'cpu', 64) ends "...X\x03\x00\x00\x00cpu q\x07 K\x40".
        var zip = File.ReadAllBytes(Fixtures.PathOf("sequential.pth"));
        int at = IndexOf(zip, [(byte)'X', 3, 0, 0, 0, (byte)'c', (byte)'p', (byte)'u', (byte)'q', 7, (byte)'K', 64]) + 11;
        Assert.Equal(64, zip[at]);
        zip[at] = 65;

        Read.Fails<CheckpointCorruptException>(zip, "storage '0' needs 260 bytes but record sequential/data/0 holds 256");
    }

    [Fact]
    public void A_storage_declaring_more_elements_than_its_record_holds_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 100, 0, [4], [1])), OneStorage);

        Read.Fails<CheckpointCorruptException>(zip, "storage '0' needs 400 bytes but record archive/data/0 holds 16");
    }

    [Fact]
    public void A_storage_declaring_an_element_count_no_file_can_hold_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "DoubleStorage", "0", long.MaxValue / 4, 0, [4], [1])), OneStorage);

        Read.Fails<CheckpointCorruptException>(zip, "more bytes than any file can hold");
    }

    [Fact]
    public void A_storage_whose_record_is_missing_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "7", 4, 0, [4], [1])), OneStorage);

        Read.Fails<CheckpointCorruptException>(zip, "storage '7' (declared at archive/data.pkl byte");
    }

    [Fact]
    public void A_storage_key_that_climbs_out_of_the_archive_only_names_a_missing_record()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "../../../etc/passwd", 4, 0, [4], [1])), OneStorage);

        Read.Fails<CheckpointCorruptException>(zip, "has no record archive/data/../../../etc/passwd in the archive");
    }

    [Fact]
    public void A_view_reaching_past_its_storage_is_corrupt_in_a_real_fixture()
    {
        // sequential.pth: 0.weight is BINPERSID, offset K\x00, size (K\x08 K\x08); make it (8, 9) with stride (8, 1).
        var zip = File.ReadAllBytes(Fixtures.PathOf("sequential.pth"));
        int at = IndexOf(zip, [(byte)'Q', (byte)'K', 0, (byte)'K', 8, (byte)'K', 8, 0x86]) + 6;
        zip[at] = 9;

        Read.Fails<CheckpointCorruptException>(zip, "tensor '0.weight': the view reaches element 64 but storage '0' holds 64");
    }

    public static TheoryData<long, long[], long[], string> BadViews() => new()
    {
        { 1, [4], [1], "the view reaches element 4 but storage '0' holds 4" },
        { 0, [2, 2], [3, 1], "the view reaches element 4 but storage '0' holds 4" },
        { 4, [1], [1], "the view reaches element 4 but storage '0' holds 4" },
        { 0, [5], [1], "the view reaches element 4 but storage '0' holds 4" },
        { 0, [2], [-1], "stride holds -1, not a non-negative integer" },
        { 0, [-2], [1], "size holds -2, not a non-negative integer" },
        { -1, [1], [1], "storage offset must be a non-negative integer" },
        { 0, [2, 2], [1], "size has 2 dimensions but stride has 1" },
        { 0, [1L << 40, 1L << 40], [1, 1], "size and stride overflow a 64-bit element index" },
        { 0, [2, 2], [long.MaxValue, 1], "size and stride overflow a 64-bit element index" },
        { long.MaxValue, [2], [1], "size and stride overflow a 64-bit element index" },
    };

    [Theory]
    [MemberData(nameof(BadViews))]
    public void A_view_that_does_not_fit_its_storage_is_corrupt(long offset, long[] size, long[] stride, string problem)
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, offset, size, stride)), OneStorage);

        var e = Read.Fails<CheckpointCorruptException>(zip, $"tensor 'w': {problem}");

        Assert.Contains("archive/data.pkl byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_view_past_the_end_of_its_storage_addresses_nothing_and_reads()
    {
        // torch allows a 0-element tensor at any offset: it addresses no element.
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 100, [0, 3], [3, 1])), OneStorage);
        using var file = new TempFile(zip);

        Assert.Empty(Read.All(file.Path)["w"]);
    }

    [Fact]
    public void A_stride_0_broadcast_far_larger_than_its_storage_is_refused_at_open()
    {
        // One stored float broadcast to 2^32 elements: the view fits its storage, but reading would materialize 16 GiB.
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 1, 0, [1L << 32], [0])), new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1) });

        Read.Fails<CheckpointCorruptException>(zip, "tensor 'w': the view has 4294967296 elements but its storage only 1");
    }

    [Fact]
    public void A_stride_0_broadcast_larger_than_any_array_is_refused_when_read_if_the_budget_allows_it()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 2, 0, [1L << 31], [0])), new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1, 2) });
        using var file = new TempFile(zip);
        using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Limits = CheckpointLimits.Default with { MaxExpansion = int.MaxValue } });

        Assert.Equal(1L << 31, checkpoint.Tensors["w"].ElementCount);
        var e = Assert.Throws<CheckpointFormatException>(() => checkpoint.ReadBytes("w"));
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_stride_0_broadcast_reads_every_element()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 1, 0, [3, 2], [0, 0])), new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(7) });
        using var file = new TempFile(zip);
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal([7f, 7f, 7f, 7f, 7f, 7f], checkpoint.Read<float>("w").ToArray());
    }

    [Fact]
    public void Two_entries_flattening_to_one_key_are_refused()
    {
        // {'a.b': t, 'a': {'b': t}}: both would be called "a.b".
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Mark()
            .BinUnicode("a.b").Tensor("FloatStorage", "0", 4, 0, [4], [1])
            .BinUnicode("a").EmptyDict().BinUnicode("b").Tensor("FloatStorage", "0", 4, 0, [4], [1]).SetItem()
            .SetItems().Stop().ToArray();

        Read.Fails<CheckpointFormatException>(TorchZip.Build(pickle, OneStorage), "two entries flatten to the same key 'a.b'");
    }

    // ------------------------------------------------------------------ not a checkpoint

    [Fact]
    public void Random_bytes_are_not_a_checkpoint()
    {
        var bytes = new byte[4096];
        new Random(1234).NextBytes(bytes);
        bytes[0] = 0x42;

        Read.Fails<CheckpointFormatException>(bytes, "not a PyTorch checkpoint");
    }

    [Fact]
    public void A_text_file_is_not_a_checkpoint()
    {
        Read.Fails<CheckpointFormatException>("fc1.weight: [[0.1, 0.2], [0.3, 0.4]]\n"u8.ToArray(), "not a PyTorch checkpoint");
    }

    [Fact]
    public void An_empty_file_is_not_a_checkpoint()
    {
        Read.Fails<CheckpointFormatException>([], "the file is empty");
    }

    [Fact]
    public void A_missing_file_is_a_checkpoint_exception()
    {
        string path = Path.Combine(Path.GetTempPath(), $"statedict-hostile-missing-{Guid.NewGuid():N}.pth");

        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(path));

        Assert.Contains("cannot open the file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tar_file_is_not_supported()
    {
        var tar = new byte[1024];
        "sys_info"u8.CopyTo(tar);
        "ustar"u8.CopyTo(tar.AsSpan(257));

        Read.Fails<CheckpointFormatException>(tar, "tar checkpoints (PyTorch 0.1.x) are not supported");
    }

    [Fact]
    public void A_plain_zip_without_data_pkl_is_not_a_checkpoint()
    {
        var zip = TorchZip.Zip([("readme.txt", "hello"u8.ToArray(), CompressionLevel.Optimal)]);

        Read.Fails<CheckpointFormatException>(zip, "zip archive has no PREFIX/data.pkl record");
    }

    [Fact]
    public void A_zip_with_data_pkl_outside_any_folder_is_not_a_checkpoint()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage, prefix: "");

        Read.Fails<CheckpointFormatException>(zip, "zip archive has no PREFIX/data.pkl record");
    }

    [Fact]
    public void A_zip_with_two_data_pkl_records_is_refused()
    {
        var pickle = TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1]));
        var zip = TorchZip.Build(pickle, OneStorage, extraEntries: new Dictionary<string, byte[]> { ["other/data.pkl"] = pickle });

        Read.Fails<CheckpointFormatException>(zip, "zip archive has 2 data.pkl records");
    }

    [Fact]
    public void A_TorchScript_archive_without_a_module_object_is_refused()
    {
        var pickle = TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1]));
        var zip = TorchZip.Build(pickle, OneStorage, extraEntries: new Dictionary<string, byte[]> { ["archive/constants.pkl"] = pickle });

        Read.Fails<CheckpointFormatException>(zip, "a TorchScript archive holds a __torch__ module object");
    }

    [Fact]
    public void A_harmless_plain_pickle_reads_its_values()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("epoch").BinInt1(3).SetItem().Stop().ToArray();
        using var file = new TempFile(pickle, ".pkl");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.Pickle, checkpoint.Format);
        Assert.Empty(checkpoint.Tensors);
        Assert.Equal(3L, checkpoint.Values["epoch"]);
    }

    [Fact]
    public void A_zip_whose_data_pkl_is_not_a_pickle_is_corrupt()
    {
        var zip = TorchZip.Build([0xFF, 0x00], OneStorage);

        Read.Fails<CheckpointCorruptException>(zip, "corrupt pickle: archive/data.pkl byte 0: unknown opcode 0xff");
    }

    // ------------------------------------------------------------------ compressed records

    [Fact]
    public void A_zip_built_by_dotnet_reads_correctly()
    {
        var values = Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray();
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 12, 0, [3, 4], [4, 1])), new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(values) });
        using var file = new TempFile(zip);
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(0, TorchZip.MethodOf(zip, "archive/data/0"));
        Assert.Equal(values, checkpoint.Read<float>("w").ToArray());
    }

    [Fact]
    public void A_DEFLATED_storage_record_reads_correctly()
    {
        var values = Enumerable.Range(0, 256).Select(i => (float)(i % 7)).ToArray();
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 256, 0, [16, 16], [16, 1])),
            new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(values) }, storageLevel: CompressionLevel.Optimal);
        using var file = new TempFile(zip);
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(8, TorchZip.MethodOf(zip, "archive/data/0"));
        Assert.Equal(values, checkpoint.Read<float>("w").ToArray());
    }

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Slices_and_parts_of_a_DEFLATED_storage_record_read_correctly(TensorMemory mode)
    {
        // A compressed record can only be inflated from its start: ranged reads take it whole, once, then slice it.
        var values = Enumerable.Range(0, 256).Select(i => (float)i).ToArray();
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 256, 0, [16, 16], [16, 1])),
            new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(values) }, storageLevel: CompressionLevel.Optimal);
        using var file = new TempFile(zip);
        using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Memory = mode });

        Assert.Equal(values[32..64], checkpoint.ReadSlice<float>("w", 2..4).ToArray());
        Assert.Equal(values[(5 * 16 + 3)..(10 * 16 + 3)].Where((_, i) => i % 16 < 13).ToArray(), checkpoint.ReadSlice<float>("w", 5..10, 3..).ToArray());
        var part = new float[100];
        checkpoint.CopyTo("w", 150, part.AsSpan());
        Assert.Equal(values[150..250], part);
    }

    [Fact]
    public void A_DEFLATED_pickle_and_storage_read_correctly_with_a_transposed_view()
    {
        var values = Enumerable.Range(0, 6).Select(i => (float)i).ToArray();
        var zip = TorchZip.Build(TorchZip.StateDict(("t", "FloatStorage", "0", 6, 0, [3, 2], [1, 3])),
            new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(values) }, pickleLevel: CompressionLevel.SmallestSize, storageLevel: CompressionLevel.SmallestSize);
        using var file = new TempFile(zip);
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(8, TorchZip.MethodOf(zip, "archive/data.pkl"));
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], checkpoint.Read<float>("t").ToArray());
    }

    [Fact]
    public void A_DEFLATED_record_claiming_an_absurd_size_is_refused_before_inflating()
    {
        // 100M floats (400 MB) declared by the pickle and by the directory, from a few dozen compressed bytes.
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 100_000_000, 0, [4], [1])), OneStorage, storageLevel: CompressionLevel.Optimal);
        int central = TorchZip.CentralHeaderOf(zip, "archive/data/0");
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), 400_000_000);
        using var file = new TempFile(zip);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(file.Path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("record archive/data/0 claims 400000000 bytes from", e.Message, StringComparison.Ordinal);
        Assert.Contains("zip bomb?", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_DEFLATED_record_that_inflates_to_less_than_declared_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 8, 0, [8], [1])), OneStorage, storageLevel: CompressionLevel.Optimal);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(TorchZip.CentralHeaderOf(zip, "archive/data/0") + 24), 32);

        Read.Fails<CheckpointCorruptException>(zip, "archive/data/0");
    }

    [Fact]
    public void A_DEFLATED_record_that_inflates_to_more_than_declared_is_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 2, 0, [2], [1])), OneStorage, storageLevel: CompressionLevel.Optimal);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(TorchZip.CentralHeaderOf(zip, "archive/data/0") + 24), 8);

        Read.Fails<CheckpointCorruptException>(zip, "archive/data/0");
    }

    // ------------------------------------------------------------------ entry names

    [Theory]
    [InlineData("archive/../evil.txt")]
    [InlineData("../archive/data/0")]
    [InlineData("archive/data/../../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("archive\\..\\evil.txt")]
    [InlineData("C:/Windows/evil.txt")]
    public void A_zip_entry_name_that_escapes_the_archive_is_corrupt(string name)
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage,
            extraEntries: new Dictionary<string, byte[]> { [name] = "x"u8.ToArray() });

        Read.Fails<CheckpointCorruptException>(zip, $"zip entry name '{name}' is absolute or climbs out of the archive");
    }

    [Fact]
    public void Two_zip_entries_with_one_name_are_corrupt()
    {
        var zip = TorchZip.Build(TorchZip.StateDict(("w", "FloatStorage", "0", 4, 0, [4], [1])), OneStorage,
            extraEntries: new Dictionary<string, byte[]> { ["archive/data/0"] = TorchZip.Floats(9, 9, 9, 9) });

        Read.Fails<CheckpointCorruptException>(zip, "zip archive has two entries named 'archive/data/0'");
    }

    // ------------------------------------------------------------------ refused globals

    [Fact]
    public void The_os_system_fixture_is_refused_naming_posix_system()
    {
        var e = Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(Fixtures.PathOf("malicious_os_system.pth")));

        Assert.Contains("posix.system", e.RefusedGlobals);
        Assert.Contains("posix.system", e.Message, StringComparison.Ordinal);
        Assert.Contains("StateDict executed nothing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model_full.pth")]
    [InlineData("model.pkl")]
    public void A_whole_pickled_model_is_refused_naming_its_class(string name)
    {
        var e = Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(Fixtures.PathOf(name)));

        Assert.Contains("__main__.MLP", e.RefusedGlobals);
        Assert.Contains("__main__.MLP", e.Message, StringComparison.Ordinal);
        Assert.Contains("save model.state_dict() instead", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("__builtin__", "eval", "builtins.eval")]
    [InlineData("builtins", "exec", "builtins.exec")]
    [InlineData("subprocess", "Popen", "subprocess.Popen")]
    [InlineData("nt", "system", "nt.system")]
    [InlineData("torch.serialization", "load", "torch.serialization.load")]
    [InlineData("torch.storage", "_load_from_bytes", "torch.storage._load_from_bytes")]
    [InlineData("functools", "partial", "functools.partial")]
    public void A_dangerous_global_in_a_zip_is_refused_without_running(string module, string name, string refused)
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("x")
            .Global(module, name).BinUnicode("print('pwned')").Tuple1().Reduce().SetItem().Stop().ToArray();

        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(pickle), refused);

        Assert.Equal([refused], e.RefusedGlobals);
    }

    [Fact]
    public void A_global_named_through_computed_STACK_GLOBAL_operands_is_refused()
    {
        var pickle = new PickleBuilder().Proto(4).EmptyDict().ShortBinUnicode("x")
            .ShortBinUnicode("posix").Memoize().Pop().ShortBinUnicode("system").Memoize().Pop()
            .BinGet(0).BinGet(1).StackGlobal()
            .ShortBinUnicode("id").Tuple1().Reduce().SetItem().Stop().ToArray();

        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(pickle), "posix.system");

        Assert.Equal(["posix.system"], e.RefusedGlobals);
    }

    [Fact]
    public void A_dangerous_global_that_is_named_but_never_called_is_still_refused()
    {
        var pickle = new PickleBuilder().Proto(2).Global("posix", "system").Pop().EmptyDict().Stop().ToArray();

        Read.Fails<CheckpointUnsafeException>(TorchZip.Build(pickle), "posix.system");
    }

    [Fact]
    public void Every_refused_global_is_listed_in_order_of_appearance()
    {
        var pickle = new PickleBuilder().Proto(2).Mark()
            .Global("subprocess", "Popen").Global("collections", "OrderedDict").Global("posix", "system").Global("subprocess", "Popen")
            .Tuple().Stop().ToArray();

        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(pickle), "globals outside the allow-list");

        Assert.Equal(["subprocess.Popen", "posix.system"], e.RefusedGlobals);
    }

    [Fact]
    public void An_EXT_opcode_in_a_zip_is_refused()
    {
        var pickle = new PickleBuilder().Proto(2).Ext1(1).EmptyTuple().Reduce().Stop().ToArray();

        var e = Read.Fails<CheckpointUnsafeException>(TorchZip.Build(pickle), "archive/data.pkl byte 2");

        Assert.Equal(["copyreg._extension_registry"], e.RefusedGlobals);
    }

    // ------------------------------------------------------------------ cycles and bombs

    [Fact]
    public void A_list_that_contains_itself_is_refused_as_a_cycle()
    {
        // l = []; l.append(l); {'loop': l}
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("loop")
            .EmptyList().BinPut(0).BinGet(0).Append()
            .SetItem().Stop().ToArray();

        Read.Fails<CheckpointFormatException>(TorchZip.Build(pickle), "the list at 'loop.0' contains itself: a cycle back to 'loop'");
    }

    [Fact]
    public void A_dict_that_contains_itself_is_refused_as_a_cycle()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinPut(0).BinUnicode("self").BinGet(0).SetItem().Stop().ToArray();

        Read.Fails<CheckpointFormatException>(TorchZip.Build(pickle), "the dict at 'self' contains itself: a cycle back to the top level");
    }

    [Fact]
    public void An_OrderedDict_that_contains_itself_is_refused_as_a_cycle()
    {
        var pickle = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().BinPut(0)
            .BinUnicode("self").BinGet(0).SetItem().Stop().ToArray();

        Read.Fails<CheckpointFormatException>(TorchZip.Build(pickle), "the collections.OrderedDict(...) at 'self' contains itself: a cycle back to the top level");
    }

    [Fact]
    public void Containers_nested_deeper_than_the_budget_are_corrupt_without_overflowing_the_stack()
    {
        var pickle = new PickleBuilder().Proto(2).BinInt1(0).Repeat(5000, p => p.Tuple1()).Stop().ToArray();

        Read.Fails<CheckpointCorruptException>(TorchZip.Build(pickle), "containers nest deeper than 1000 levels");
    }

    [Fact]
    public void A_billion_laughs_of_40_shared_levels_is_corrupt_and_fails_fast()
    {
        // level0 = []; level(k) = [level(k-1), level(k-1)]: 2^40 leaves if flattened, 41 lists in memory.
        var pickle = BillionLaughs("bomb", levels: 40);

        var e = Read.Fails<CheckpointCorruptException>(TorchZip.Build(pickle), "(CheckpointLimits.MaxEntries)");

        Assert.Contains("archive/data.pkl", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_billion_laughs_under_a_long_key_is_corrupt_and_fails_fast()
    {
        // Every flattened key starts with a 20,000-character segment: the key work, not the object count, explodes.
        var pickle = BillionLaughs(new string('k', 20_000), levels: 40);

        Read.Fails<CheckpointCorruptException>(TorchZip.Build(pickle), "(CheckpointLimits.MaxEntries)");
    }

    [Fact]
    public void A_billion_laughs_respects_a_lower_entry_budget()
    {
        var pickle = BillionLaughs("bomb", levels: 40);
        using var file = new TempFile(TorchZip.Build(pickle));
        var options = new LoadOptions { Limits = CheckpointLimits.Default with { MaxEntries = 1000 } };

        var e = Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Open(file.Path, options));

        Assert.Contains("(CheckpointLimits.MaxEntries)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tensor_shared_by_many_keys_is_one_storage_read()
    {
        // The legitimate form of sharing: tied weights. 1,000 keys, one BINGET'd tensor, one storage.
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Mark()
            .BinUnicode("k0").Tensor("FloatStorage", "0", 4, 0, [4], [1]).LongBinPut(0)
            .Repeat(999, p => p.BinUnicode($"k{p.Position}").LongBinGet(0))
            .SetItems().Stop().ToArray();
        using var file = new TempFile(TorchZip.Build(pickle, OneStorage));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(1000, checkpoint.Tensors.Count);
        var first = checkpoint.Read<float>("k0");
        Assert.All(checkpoint.Tensors.Keys, k => Assert.True(checkpoint.Read<float>(k).Memory.Span.SequenceEqual(first.Span)));
    }

    // ------------------------------------------------------------------ helpers

    private static byte[] BillionLaughs(string key, int levels) =>
        new PickleBuilder().Proto(2).EmptyDict().BinUnicode(key).EmptyList()
            .Repeat(levels, p => p.BinPut(0).Pop().Mark().BinGet(0).BinGet(0).List())
            .SetItem().Stop().ToArray();

    /// <summary>
    /// Opens and reads every tensor. Returns what was read, or null when the file was refused with a
    /// <see cref="CheckpointException"/> from a deliberate check. Any other exception, or one that only the
    /// catch-all in <see cref="Checkpoint.Open"/> turned into a checkpoint exception, fails the test.
    /// </summary>


    private static void AssertSameTensors(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual, string context)
    {
        Assert.True(expected.Keys.SequenceEqual(actual.Keys), $"{context}: keys differ");
        foreach (var (key, bytes) in expected)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{context}: tensor '{key}' differs");
        }
    }

    /// <summary>The central directory's extent: from its first header to the zip64 or classic end record.</summary>
    private static (int Start, int End) CentralDirectory(byte[] zip)
    {
        int start = zip.AsSpan().IndexOf("PK\x01\x02"u8);
        int end = zip.AsSpan().LastIndexOf("PK\x06\x06"u8);
        if (end < start)
        {
            end = zip.AsSpan().LastIndexOf("PK\x05\x06"u8);
        }
        Assert.True(start > 0 && end > start, "no central directory found");
        return (start, end);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        int at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "pattern not found in the fixture");
        Assert.Equal(-1, haystack.AsSpan(at + 1).IndexOf(needle));
        return at;
    }
}
