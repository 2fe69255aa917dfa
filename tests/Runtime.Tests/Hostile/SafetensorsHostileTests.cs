using System.Buffers.Binary;
using System.Text;
using StateDict.Tests.Pickle;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Damaged safetensors files and sharded indexes through <see cref="Checkpoint.Open"/>: every rule the reference
/// implementation checks (header cap, header length, UTF-8, JSON, offsets contiguous with no overlap or hole, shape ×
/// element size, nothing after the data), duplicate names, unsupported dtypes, every truncation and byte flip of a
/// real file, and indexes that point outside their folder or disagree with their shards. Each fails with a typed
/// <see cref="CheckpointException"/> naming the file, the problem and the place, or reads exactly.
/// </summary>
public class SafetensorsHostileTests
{
    private static readonly byte[] Four = SafetensorsFile.Floats(1, 2, 3, 4);

    // ------------------------------------------------------------------ the 8-byte length and the header

    [Fact]
    public void A_header_over_the_100_MB_cap_is_corrupt()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", Four, declaredLength: 100_000_001);

        var e = Read.Fails<CheckpointCorruptException>(bytes, "bytes 0..8: the safetensors header length is 100000001 bytes, over the format's limit of 100,000,000");
        Assert.Contains("header too large", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_at_the_cap_but_past_the_end_of_the_file_is_corrupt()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", Four, declaredLength: 100_000_000);

        Read.Fails<CheckpointCorruptException>(bytes, "bytes 0..8: the safetensors header length is 100000000 bytes but only");
    }

    [Fact]
    public void A_header_length_past_the_end_of_the_file_is_corrupt()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", Four, declaredLength: 1000);

        Read.Fails<CheckpointCorruptException>(bytes, $"bytes 0..8: the safetensors header length is 1000 bytes but only {bytes.Length - 8} follow (truncated?)");
    }

    [Fact]
    public void A_header_length_of_2_to_the_64_minus_1_is_corrupt_not_an_overflow()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", Four, declaredLength: ulong.MaxValue);

        Read.Fails<CheckpointCorruptException>(bytes, $"the safetensors header length is {ulong.MaxValue} bytes, over the format's limit");
    }

    [Fact]
    public void A_header_that_is_not_UTF_8_is_corrupt_naming_the_byte()
    {
        var header = Encoding.UTF8.GetBytes("{\"a\u00e9\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
        int bad = Array.IndexOf(header, (byte)0xC3);
        header[bad + 1] = 0x28; // 0xC3 0x28: a lead byte without its continuation
        var bytes = SafetensorsFile.Build(header, Four);

        Read.Fails<CheckpointCorruptException>(bytes, $"the safetensors header is not valid UTF-8: byte {8 + bad} (0xC3)");
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}} x""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}{}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],/* c */"data_offsets":[0,16]}}""")]
    [InlineData("""{'a':{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""")]
    public void Invalid_JSON_is_corrupt(string header)
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "is not valid JSON");
    }

    [Fact]
    public void A_header_padded_with_something_other_than_whitespace_is_corrupt()
    {
        var header = Encoding.UTF8.GetBytes("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""" + "\0\0\0\0");

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four, pad: false), "is not valid JSON");
    }

    [Fact]
    public void A_tensor_entry_that_is_not_an_object_is_corrupt_at_its_byte()
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build("""{"a":[1]}""", []), "safetensors header byte 13: tensor 'a' must be an object, not an array");
    }

    [Fact]
    public void Duplicate_names_are_refused_naming_the_second()
    {
        const string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";
        int second = header.LastIndexOf("\"a\"", StringComparison.Ordinal);

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), $"safetensors header byte {8 + second}: the name 'a' appears twice");
    }

    [Fact]
    public void Duplicate_names_written_with_escapes_are_still_duplicates()
    {
        const string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\u0061":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "the name 'a' appears twice");
    }

    [Theory]
    [InlineData("""{"a":{"shape":[4],"data_offsets":[0,16]}}""", "tensor 'a' has no 'dtype' field")]
    [InlineData("""{"a":{"dtype":"F32","data_offsets":[0,16]}}""", "tensor 'a' has no 'shape' field")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4]}}""", "tensor 'a' has no 'data_offsets' field")]
    [InlineData("""{"a":{"dtype":"F32","dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "tensor 'a' has the field 'dtype' twice")]
    [InlineData("""{"a":{"dtype":32,"shape":[4],"data_offsets":[0,16]}}""", "tensor 'a' dtype must be a string, not the number 32")]
    [InlineData("""{"a":{"dtype":"F32","shape":"4","data_offsets":[0,16]}}""", "tensor 'a' shape must be an array, not a string")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""", "tensor 'a' shape holds the number -4; it must hold non-negative integers")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}""", "tensor 'a' shape holds the number 4.0")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4e0],"data_offsets":[0,16]}}""", "tensor 'a' shape holds the number 4e0")]
    [InlineData("""{"a":{"dtype":"F32","shape":[null],"data_offsets":[0,16]}}""", "tensor 'a' shape holds null")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}}""", "tensor 'a' data_offsets has 1 number; it must be [begin, end]")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16,32]}}""", "tensor 'a' data_offsets has more than 2 numbers")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551615]}}""", "tensor 'a' data_offsets holds 18446744073709551615, larger than any file or tensor")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551616]}}""", "tensor 'a' data_offsets holds the number 18446744073709551616")]
    [InlineData("""{"a":"F32"}""", "tensor 'a' must be an object, not a string")]
    [InlineData("""{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "__metadata__ value of 'format' must be a string, not the number 1")]
    [InlineData("""{"__metadata__":["pt"],"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "__metadata__ must be an object, not an array")]
    [InlineData("""{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "__metadata__ has the key 'k' twice")]
    public void Malformed_entries_are_corrupt_naming_the_tensor_and_the_header_byte(string header, string problem)
    {
        var e = Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), problem);
        Assert.Matches(@": safetensors header byte \d+: ", e.Message);
    }

    [Fact]
    public void A_rank_over_the_budget_is_refused()
    {
        string header = $$$"""{"a":{"dtype":"F32","shape":[{{{string.Join(",", Enumerable.Repeat(1, 65))}}}],"data_offsets":[0,4]}}""";

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, SafetensorsFile.Floats(1)), "tensor 'a' has more than 64 dimensions (CheckpointLimits.MaxRank)");
    }

    [Fact]
    public void More_tensors_than_the_entry_budget_are_refused()
    {
        var limits = CheckpointLimits.Default with { MaxEntries = 2 };
        var header = """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"c":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}""";
        using var file = new TempFile(SafetensorsFile.Build(header, [1, 2, 3]), ".safetensors");

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(file.Path, new LoadOptions { Limits = limits }));
        Assert.Contains("more than 2 tensors (CheckpointLimits.MaxEntries)", e.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ dtypes

    [Fact]
    public void An_unknown_dtype_is_corrupt()
    {
        Read.Fails<CheckpointCorruptException>(
            SafetensorsFile.Build("""{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}""", new byte[16]),
            "safetensors header byte 9: tensor 'a': dtype 'F128' is not a safetensors dtype");
    }

    [Fact]
    public void Dtype_codes_are_case_sensitive()
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build("""{"a":{"dtype":"f32","shape":[4],"data_offsets":[0,16]}}""", Four), "dtype 'f32' is not a safetensors dtype");
    }

    [Theory]
    [InlineData("F8_E8M0", 4, 4, 4)]
    [InlineData("F8_E4M3FNUZ", 4, 4, 4)]
    [InlineData("F8_E5M2FNUZ", 4, 4, 4)]
    [InlineData("F4", 8, 4, 4)]
    [InlineData("F6_E2M3", 4, 3, 1)]
    [InlineData("F6_E3M2", 8, 6, 2)]
    public void Every_format_dtype_reads_with_packed_values_counted_as_elements(string code, int values, int bytes, long elements)
    {
        var header = $$$"""{"a":{"dtype":"{{{code}}}","shape":[{{{values}}}],"data_offsets":[0,{{{bytes}}}]}}""";
        var data = Enumerable.Range(1, bytes).Select(b => (byte)b).ToArray();
        using var file = new TempFile(SafetensorsFile.Build(header, data));
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(code, checkpoint.Tensors["a"].DType.SafetensorsName());
        Assert.Equal(new[] { elements }, checkpoint.Tensors["a"].Shape.ToArray());
        Assert.Equal(data, checkpoint.ReadBytes("a").ToArray());
    }

    [Fact]
    public void A_packed_dtype_whose_last_dimension_splits_a_group_is_unsupported()
    {
        Read.Fails<CheckpointFormatException>(SafetensorsFile.Build("""{"a":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}}""", new byte[3]),
            "unsupported: F4 tensor 'a' of shape [2, 3]: StateDict reads packed F4 values in groups of 2 along the last dimension");
    }

    [Fact]
    public void A_sub_byte_dtype_that_does_not_end_on_a_byte_is_corrupt()
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build("""{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}""", new byte[2]),
            "tensor 'a': shape [3] of F4 (4-bit elements) does not end on a byte boundary");
    }

    // ------------------------------------------------------------------ offsets and sizes

    [Fact]
    public void Overlapping_offsets_are_corrupt_naming_both_tensors()
    {
        const string header = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";
        int b = header.IndexOf("\"b\"", StringComparison.Ordinal);

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four),
            $"safetensors header byte {8 + b}: tensor 'b': data_offsets [8, 16] overlap tensor 'a' (data_offsets [0, 16]); tensors must not share bytes");
    }

    [Fact]
    public void Two_names_for_the_same_bytes_are_an_overlap()
    {
        const string header = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "overlap tensor 'a'");
    }

    [Fact]
    public void A_hole_between_tensors_is_corrupt()
    {
        const string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""";

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four),
            "tensor 'b': data_offsets [12, 16] leave a hole after tensor 'a' (data_offsets [0, 8]): data bytes 8..12 belong to no tensor");
    }

    [Fact]
    public void Data_that_does_not_start_at_offset_0_is_a_hole()
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}""", Four),
            "leave a hole after the start of the data: data bytes 0..4 belong to no tensor");
    }

    [Fact]
    public void Offsets_that_end_before_they_begin_are_corrupt()
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}}""", Four),
            "tensor 'a': data_offsets [16, 0] end before they begin");
    }

    [Fact]
    public void Offsets_past_the_end_of_the_file_are_corrupt()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}""", Four);

        Read.Fails<CheckpointCorruptException>(bytes, $"tensor 'a': data_offsets [0, 32] reach file byte {bytes.Length + 16} but the file has {bytes.Length} bytes (out of bounds)");
    }

    [Fact]
    public void A_shape_that_disagrees_with_the_byte_length_is_corrupt()
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", Four),
            "safetensors header byte 9: tensor 'a': data_offsets [0, 16] hold 16 bytes but shape [3] of F32 needs 12");
    }

    [Theory]
    [InlineData("[4611686018427387904,4]")]
    [InlineData("[9223372036854775807,2]")]
    [InlineData("[2305843009213693952]")]
    public void A_shape_whose_product_overflows_is_corrupt(string shape)
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build($$$"""{"a":{"dtype":"F32","shape":{{{shape}}},"data_offsets":[0,16]}}""", Four),
            "overflows when multiplied out");
    }

    [Fact]
    public void A_huge_dimension_times_zero_is_an_empty_tensor_as_in_the_reference()
    {
        using var file = new TempFile(SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}}""", []), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(0, checkpoint.Tensors["a"].ElementCount);
        Assert.Equal(0, checkpoint.Read<float>("a").Length);
    }

    [Fact]
    public void Trailing_bytes_after_the_data_are_refused()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", [.. Four, 0x50, 0x4B, 0x05, 0x06]);

        Read.Fails<CheckpointCorruptException>(bytes, $"the tensors' data ends at byte {bytes.Length - 4} but the file goes on to byte {bytes.Length}: 4 trailing bytes");
    }

    [Fact]
    public void A_file_cut_inside_the_data_is_corrupt()
    {
        var bytes = SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", Four);

        Read.Fails<CheckpointCorruptException>(bytes[..^1], "(out of bounds)");
    }

    [Fact]
    public void A_file_shorter_than_the_length_field_is_not_a_checkpoint()
    {
        Read.Fails<CheckpointFormatException>([0x10, 0, 0, 0], "not a PyTorch checkpoint: the file has only 4 bytes");
    }

    // ------------------------------------------------------------------ what the format allows

    [Fact]
    public void An_empty_header_opens_with_no_tensors()
    {
        using var file = new TempFile(SafetensorsFile.Build("{}", []), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Format);
        Assert.Empty(checkpoint.Tensors);
        Assert.Empty(checkpoint.Metadata);
    }

    [Fact]
    public void Null_metadata_is_no_metadata()
    {
        using var file = new TempFile(SafetensorsFile.Build("""{"__metadata__":null,"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", Four), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Empty(checkpoint.Metadata);
        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
    }

    [Fact]
    public void Keys_keep_the_header_order_when_it_is_not_the_offset_order()
    {
        // Older writers sorted the header by name, not by offset; the reference sorts by offset only to validate.
        const string header = """{"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"I32","shape":[1],"data_offsets":[12,16]},"m":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}}""";
        using var file = new TempFile(SafetensorsFile.Build(header, [.. SafetensorsFile.Floats(1, 2), 9, 8, 7, 6, 5, 0, 0, 0]), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(["z", "a", "m"], checkpoint.Tensors.Keys);
        Assert.Equal([1f, 2], checkpoint.Read<float>("z").ToArray());
        Assert.Equal([5], checkpoint.Read<int>("a").ToArray());
        Assert.Equal([9, 8, 7, 6], checkpoint.Read<byte>("m").ToArray());
    }

    [Fact]
    public void Empty_tensors_may_share_an_offset_and_unknown_fields_are_ignored()
    {
        const string header = """{"e1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"e2":{"dtype":"I64","shape":[3,0],"data_offsets":[0,0],"note":{"x":[1,2]}},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";
        using var file = new TempFile(SafetensorsFile.Build(header, Four), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(["e1", "e2", "a"], checkpoint.Tensors.Keys);
        Assert.Equal(new long[] { 1, 1 }, checkpoint.Tensors["e2"].Strides.ToArray());
        Assert.Equal(new long[] { 2, 1 }, checkpoint.Tensors["a"].Strides.ToArray());
        Assert.Equal(0, checkpoint.Read<long>("e2").Length);
    }

    [Fact]
    public void A_header_that_is_not_padded_is_read_even_where_the_data_is_unaligned()
    {
        const string header = """{"abc":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        Assert.NotEqual(0, (8 + header.Length) % 4);
        using var file = new TempFile(SafetensorsFile.Build(header, Four, pad: false), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Memory = TensorMemory.MemoryMapped });

        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("abc").ToArray());
    }

    [Fact]
    public void A_pickle_with_a_brace_at_byte_8_is_not_taken_for_safetensors()
    {
        // PROTO 2, EMPTY_DICT, BINUNICODE "{..." puts '{' at byte 8, as a safetensors header would be.
        var pickle = new PickleBuilder().Proto(2).EmptyDict().BinUnicode("{weight").BinUnicode("x").SetItem().Stop().ToArray();
        Assert.Equal((byte)'{', pickle[8]);

        using var file = new TempFile(pickle);

        // Plain pickles are refused or read by their own container, never as a damaged safetensors file.
        try
        {
            using var checkpoint = Checkpoint.Open(file.Path);
            Assert.NotEqual(CheckpointFormat.Safetensors, checkpoint.Format);
        }
        catch (CheckpointException e)
        {
            Assert.DoesNotContain("safetensors", e.Message, StringComparison.Ordinal);
        }
    }

    // ------------------------------------------------------------------ every prefix, every byte of a real file

    [Fact]
    public void Every_truncation_of_a_real_file_fails_with_a_checkpoint_exception()
    {
        var original = File.ReadAllBytes(Fixtures.PathOf("safetensors/mlp.safetensors"));
        using var file = new TempFile(original, ".safetensors");

        for (int length = original.Length - 1; length >= 0; length--)
        {
            file.Truncate(length);
            Assert.Null(Read.TryAll(file.Path, $"cut to {length} bytes"));
        }
    }

    [Fact]
    public void Every_single_byte_corruption_of_a_real_file_reads_or_fails_with_a_checkpoint_exception()
    {
        var original = File.ReadAllBytes(Fixtures.PathOf("safetensors/dtypes.safetensors"));
        long headerEnd = 8 + BinaryPrimitives.ReadInt64LittleEndian(original);
        using var file = new TempFile(original, ".safetensors");

        for (int offset = 0; offset < headerEnd + 16; offset++)
        {
            file.Poke(offset, (byte)(original[offset] ^ 0xFF));
            Read.TryAll(file.Path, $"byte {offset} flipped");
            file.Poke(offset, original[offset]);
        }
    }

    // ------------------------------------------------------------------ sharded indexes

    [Theory]
    [InlineData("../model-00001-of-00002.safetensors", "climbs out with '..'")]
    [InlineData("sub/../../model-00001-of-00002.safetensors", "climbs out with '..'")]
    [InlineData("..\\\\model-00001-of-00002.safetensors", "climbs out with '..'")]
    [InlineData("/etc/passwd", "is an absolute path")]
    [InlineData("\\\\server\\\\share\\\\x.safetensors", "is an absolute path")]
    [InlineData("C:\\\\x.safetensors", "is an absolute path")]
    [InlineData("", "is empty")]
    public void Shard_paths_that_leave_the_index_folder_are_refused(string shard, string problem)
    {
        using var folder = ShardFolder.Copy();
        folder.WriteIndex($$$"""{"weight_map":{"fc1.weight":"{{{shard}}}"}}""");

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(folder.Index));
        Assert.StartsWith($"{folder.Index}: index byte ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"refused: the shard path '{shard.Replace("\\\\", "\\", StringComparison.Ordinal)}' {problem}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_key_with_an_escaped_lone_surrogate_is_corrupt_not_a_crash()
    {
        using var folder = ShardFolder.Copy();
        folder.WriteIndex("""{"metadata":{},"weight_map":{"fc1.weight\ud800":"model-00001-of-00002.safetensors"}}""");

        var e = Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Open(folder.Index));
        Assert.Contains("escapes a lone UTF-16 surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weight_map_key_missing_from_its_shard_is_corrupt()
    {
        using var folder = ShardFolder.Copy();
        folder.EditIndex(index => index.Replace("\"fc2.weight\":", "\"fc3.weight\": \"model-00002-of-00002.safetensors\",\n    \"fc2.weight\":", StringComparison.Ordinal));

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(folder.Index));
        Assert.Contains("weight_map puts 'fc3.weight' in shard model-00002-of-00002.safetensors, which has no such key", e.Message, StringComparison.Ordinal);
        Assert.Matches(@"index byte \d+: ", e.Message);
    }

    [Fact]
    public void A_shard_key_missing_from_the_weight_map_is_corrupt()
    {
        using var folder = ShardFolder.Copy();
        folder.EditIndex(index => index.Replace("\"fc2.bias\": \"model-00002-of-00002.safetensors\",", "", StringComparison.Ordinal));

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(folder.Index));
        Assert.Contains("shard model-00002-of-00002.safetensors holds 'fc2.bias', which the index's weight_map does not list", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_mapped_to_the_wrong_shard_is_corrupt()
    {
        using var folder = ShardFolder.Copy();
        folder.EditIndex(index => index.Replace("\"fc2.bias\": \"model-00002-of-00002.safetensors\"", "\"fc2.bias\": \"model-00001-of-00002.safetensors\"", StringComparison.Ordinal));

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(folder.Index));
        Assert.Contains("weight_map puts 'fc2.bias' in shard model-00001-of-00002.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_shard_file_names_it()
    {
        using var folder = ShardFolder.Copy();
        File.Delete(Path.Combine(folder.Path, "model-00002-of-00002.safetensors"));

        var e = Assert.Throws<CheckpointFormatException>(() => Read.All(folder.Index));
        Assert.Equal(Path.Combine(folder.Path, "model-00002-of-00002.safetensors"), e.FilePath);
        Assert.Contains("cannot open the file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_naming_itself_as_a_shard_is_refused_without_recursing()
    {
        using var folder = ShardFolder.Copy();
        folder.WriteIndex("""{"weight_map":{"fc1.weight":"model.safetensors.index.json"}}""");

        var e = Assert.Throws<CheckpointFormatException>(() => Read.All(folder.Index));
        Assert.Contains("must be a safetensors file or a torch.save checkpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_shard_is_reported_in_the_shards_name()
    {
        using var folder = ShardFolder.Copy();
        string shard = Path.Combine(folder.Path, "model-00002-of-00002.safetensors");
        File.AppendAllText(shard, "extra");

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(folder.Index));
        Assert.Equal(shard, e.FilePath);
        Assert.Contains("5 trailing bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"metadata":{"total_size":1}}""", "no weight_map")]
    [InlineData("""{"weight_map":[]}""", "its weight_map is not an object")]
    [InlineData("""{weight_map:{}}""", "it is not valid JSON")]
    public void JSON_that_is_not_an_index_is_not_a_checkpoint(string json, string why)
    {
        using var folder = ShardFolder.Copy();
        folder.WriteIndex(json);

        var e = Assert.Throws<CheckpointFormatException>(() => Read.All(folder.Index));
        Assert.Contains("not a checkpoint: a JSON file, but not a sharded checkpoint index", e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"weight_map":{"fc1.weight":1}}""", "weight_map maps 'fc1.weight' to a Number, not a shard file name")]
    [InlineData("""{"weight_map":{"fc1.weight":"a","fc1.weight":"b"}}""", "weight_map lists 'fc1.weight' twice")]
    [InlineData("""{"weight_map":{},"weight_map":{}}""", "the field 'weight_map' appears twice")]
    [InlineData("""{"weight_map":{}, "metadata": 3}""", "the index's metadata is a Number, not an object")]
    [InlineData("""{"weight_map":{"fc1.weight":"model-00001-of-00002.safetensors"}""", "the sharded checkpoint index is not valid JSON")]
    public void A_malformed_index_is_corrupt(string json, string problem)
    {
        using var folder = ShardFolder.Copy();
        folder.WriteIndex(json);

        var e = Assert.Throws<CheckpointCorruptException>(() => Read.All(folder.Index));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_weight_map_is_an_empty_checkpoint()
    {
        using var folder = ShardFolder.Copy();
        folder.WriteIndex("""{"metadata":{"total_size":0},"weight_map":{}}""");
        using var checkpoint = Checkpoint.Open(folder.Index);

        Assert.Equal(CheckpointFormat.Sharded, checkpoint.Format);
        Assert.Empty(checkpoint.Tensors);
    }

    [Fact]
    public void Closing_a_sharded_checkpoint_closes_every_shard()
    {
        using var folder = ShardFolder.Copy();
        var shards = Directory.GetFiles(folder.Path, "model-*.safetensors");
        var checkpoint = Checkpoint.Open(folder.Index, new LoadOptions { Memory = TensorMemory.MemoryMapped });
        var view = checkpoint.Read<float>("fc2.weight");

        // .NET takes a shared lock on a file opened with FileShare.Read; an exclusive open fails while it is held.
        Assert.All(shards, shard => Assert.Throws<IOException>(() => new FileStream(shard, FileMode.Open, FileAccess.Read, FileShare.None).Dispose()));
        checkpoint.Dispose();

        Assert.All(shards, shard => new FileStream(shard, FileMode.Open, FileAccess.Read, FileShare.None).Dispose());
        Assert.Throws<ObjectDisposedException>(() => view.Span[0]);
    }

    [Fact]
    public void A_shard_that_fails_to_open_closes_the_shards_already_open()
    {
        using var folder = ShardFolder.Copy();
        File.AppendAllText(Path.Combine(folder.Path, "model-00002-of-00002.safetensors"), "extra");

        Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Open(folder.Index));

        new FileStream(Path.Combine(folder.Path, "model-00001-of-00002.safetensors"), FileMode.Open, FileAccess.Read, FileShare.None).Dispose();
    }

}

/// <summary>Builds safetensors files by the format's rules: u64 LE header length, JSON header, then the data.</summary>
internal static class SafetensorsFile
{
    public static byte[] Build(string header, byte[] data, ulong? declaredLength = null, bool pad = true) =>
        Build(Encoding.UTF8.GetBytes(header), data, declaredLength, pad);

    public static byte[] Build(byte[] header, byte[] data, ulong? declaredLength = null, bool pad = true)
    {
        int padding = pad ? (8 - (header.Length % 8)) % 8 : 0;
        var bytes = new byte[8 + header.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)(header.Length + padding));
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padding).Fill((byte)' ');
        data.CopyTo(bytes, 8 + header.Length + padding);
        return bytes;
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return bytes;
    }
}

/// <summary>A temp copy of tests/fixtures/sharded (index and shards), deleted on dispose.</summary>
internal sealed class ShardFolder : IDisposable
{
    private ShardFolder(string path) => Path = path;

    public string Path { get; }

    public string Index => System.IO.Path.Combine(Path, "model.safetensors.index.json");

    public static ShardFolder Copy()
    {
        var folder = new ShardFolder(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"statedict-shards-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(folder.Path);
        foreach (string file in Directory.GetFiles(Fixtures.PathOf("sharded")))
        {
            File.Copy(file, System.IO.Path.Combine(folder.Path, System.IO.Path.GetFileName(file)));
        }
        return folder;
    }

    public void WriteIndex(string json) => File.WriteAllText(Index, json);

    public void EditIndex(Func<string, string> edit)
    {
        string before = File.ReadAllText(Index);
        string after = edit(before);
        Assert.NotEqual(before, after);
        File.WriteAllText(Index, after);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
