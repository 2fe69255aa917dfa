using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Files the safetensors crate (<c>SafeTensors::read_metadata</c>, serde_json underneath) reads and StateDict once
/// refused or read otherwise: detection before the tar and zip signatures, leading JSON whitespace, serde_json's
/// nesting limit and number and string rules, bool bytes other than 0 or 1; and refusals that name the reason the
/// crate has (byte-order mark, length over the cap, a file too short for the length) where the file looks like
/// safetensors, but the generic "not a PyTorch checkpoint" where it does not.
/// </summary>
public class SafetensorsParityTests
{
    private const string OneTensor = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
    private static readonly byte[] Four = SafetensorsFile.Floats(1, 2, 3, 4);

    // ------------------------------------------------------------------ detection order

    [Fact]
    public void A_valid_header_with_ustar_at_byte_257_is_read_as_safetensors_not_refused_as_tar()
    {
        // "ustar" at file byte 257 is the tar magic; here it is inside a metadata string.
        string prefix = """{"__metadata__":{"note":" """;
        string header = prefix + new string('x', 257 - 8 - Encoding.UTF8.GetByteCount(prefix)) + "ustar" + "\"}," + OneTensor[1..];
        var bytes = SafetensorsFile.Build(header, Four);
        Assert.Equal("ustar"u8.ToArray(), bytes[257..262]);
        using var file = new TempFile(bytes, ".safetensors");

        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Format);
        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
        var report = CheckpointScanner.Scan(file.Path);
        Assert.Equal(("safetensors", ScanVerdict.Clean), (report.Format, report.Verdict));
    }

    [Fact]
    public void A_valid_header_whose_length_reads_PK_3_4_is_read_as_safetensors_not_refused_as_zip()
    {
        const long n = 0x04034B50; // 67,324,752 bytes: little-endian 'P' 'K' 3 4 0 0 0 0
        using var file = new TempFile([], ".safetensors");
        using (var stream = new FileStream(file.Path, FileMode.Create, FileAccess.Write))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, n);
            stream.Write(length);
            var json = Encoding.UTF8.GetBytes(OneTensor);
            stream.Write(json);
            var spaces = new byte[1 << 20];
            spaces.AsSpan().Fill((byte)' ');
            for (long left = n - json.Length; left > 0; left -= spaces.Length)
            {
                stream.Write(spaces, 0, (int)Math.Min(left, spaces.Length));
            }
            stream.Write(Four);
        }
        Assert.Equal("PK\x03\x04"u8.ToArray(), File.ReadAllBytes(file.Path)[..4]);

        using (var checkpoint = Checkpoint.Open(file.Path))
        {
            Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Format);
            Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
        }
        // torch.load would take it for a zip; it is none, so the scan calls it safetensors.
        var report = CheckpointScanner.Scan(file.Path);
        Assert.Equal(("safetensors", ScanVerdict.Clean), (report.Format, report.Verdict));
    }

    // ------------------------------------------------------------------ whitespace

    [Theory]
    [InlineData(" ")]
    [InlineData("\t")]
    [InlineData("\n")]
    [InlineData("\r")]
    [InlineData("\t\n\r     ")]
    public void A_header_that_starts_with_JSON_whitespace_is_read(string whitespace)
    {
        using var file = new TempFile(SafetensorsFile.Build(whitespace + OneTensor, Four), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Format);
        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
    }

    [Fact]
    public void The_crates_own_whitespace_test_header_opens_with_no_tensors()
    {
        // The crate's test_whitespace_leading_padded_header: "\t\n{}\r " parses as an empty header.
        using var file = new TempFile(SafetensorsFile.Build("\t\n{}\r ", [], pad: false), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Empty(checkpoint.Tensors);
    }

    [Fact]
    public void Leading_whitespace_past_the_first_512_bytes_is_still_safetensors()
    {
        using var file = new TempFile(SafetensorsFile.Build(new string(' ', 4000) + OneTensor, Four), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
    }

    [Theory]
    [InlineData("\f")]
    [InlineData("\v")]
    [InlineData("\u00a0")]
    [InlineData("x")]
    public void A_header_that_starts_with_anything_else_is_not_taken_for_safetensors(string first)
    {
        var e = Read.Fails<CheckpointFormatException>(SafetensorsFile.Build(first + OneTensor, Four), "not a PyTorch checkpoint");
        Assert.DoesNotContain("safetensors", e.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ refusals that name the reason

    [Fact]
    public void A_header_with_a_byte_order_mark_is_refused_naming_it()
    {
        var bytes = SafetensorsFile.Build([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(OneTensor)], Four);

        Read.Fails<CheckpointCorruptException>(bytes, "bytes 8..11: the safetensors header starts with a UTF-8 byte-order mark");
    }

    [Fact]
    public void A_length_over_the_cap_before_whitespace_and_a_brace_is_refused_as_too_large()
    {
        var bytes = SafetensorsFile.Build("  " + OneTensor, Four, declaredLength: 200_000_000);

        Read.Fails<CheckpointCorruptException>(bytes, "the safetensors header length is 200000000 bytes, over the format's limit of 100,000,000 (header too large)");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void A_file_shorter_than_the_length_field_says_so(int length)
    {
        Read.Fails<CheckpointFormatException>(new byte[length], $"not a PyTorch checkpoint: the file has only {length} bytes, too few for a torch.save archive or a safetensors header length (8 bytes)");
    }

    [Fact]
    public void An_empty_file_says_so()
    {
        Read.Fails<CheckpointFormatException>([], "the file is empty");
    }

    [Fact]
    public void Text_that_is_no_safetensors_file_gets_the_generic_message()
    {
        var e = Read.Fails<CheckpointFormatException>(Encoding.UTF8.GetBytes("hello, this is a text file {\"a\": 1}\n"), "not a PyTorch checkpoint");
        Assert.DoesNotContain("safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_that_is_not_UTF_8_names_the_byte()
    {
        var header = Encoding.UTF8.GetBytes(OneTensor);
        header[2] = 0xFF; // inside the name "a"

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "the safetensors header is not valid UTF-8: byte 10 (0xFF)");
    }

    // ------------------------------------------------------------------ serde_json's rules

    [Fact]
    public void JSON_nested_127_levels_deep_is_read_as_serde_json_reads_it()
    {
        // The header object and the entry are 2 levels; 125 arrays in an ignored field make 127.
        var bytes = SafetensorsFile.Build(Nested(125), Four);
        using var file = new TempFile(bytes, ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
    }

    [Fact]
    public void JSON_nested_128_levels_deep_is_refused_naming_the_limit()
    {
        string header = Nested(126);

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "JSON nested deeper than 127 levels, where the reference's parser (serde_json) stops");
    }

    private static string Nested(int arrays) =>
        $$$"""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":{{{new string('[', arrays)}}}{{{new string(']', arrays)}}}}}""";

    [Theory]
    [InlineData("""{"\ud800":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"note":"\udc00x"}}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"note":{"\ud83d":1}}}""")]
    [InlineData("""{"__metadata__":{"k":"\ud800"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""")]
    public void An_escaped_lone_surrogate_is_refused_as_serde_json_refuses_it(string header)
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "a string escapes a lone UTF-16 surrogate");
    }

    [Fact]
    public void An_escaped_surrogate_pair_is_text()
    {
        using var file = new TempFile(SafetensorsFile.Build("""{"\ud83d\ude00":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"n":"\ud83d\ude00"}}""", Four), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal(["\U0001F600"], checkpoint.Tensors.Keys);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000" + "0000000000")] // 10^310
    public void A_number_out_of_double_range_in_an_ignored_field_is_refused_as_serde_json_refuses_it(string number)
    {
        string header = $$$"""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":[{{{number}}}]}}""";

        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), "is out of the range of a double");
    }

    [Theory]
    [InlineData("1e-400")]
    [InlineData("-0")]
    [InlineData("18446744073709551616")]
    [InlineData("1.5e300")]
    public void Numbers_serde_json_reads_in_an_ignored_field_are_ignored(string number)
    {
        string header = $$$"""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":{{{number}}}}}""";
        using var file = new TempFile(SafetensorsFile.Build(header, Four), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path);

        Assert.Equal([1f, 2, 3, 4], checkpoint.Read<float>("a").ToArray());
    }

    [Fact]
    public void Minus_zero_is_no_dimension_because_serde_json_reads_it_as_a_float()
    {
        Read.Fails<CheckpointCorruptException>(
            SafetensorsFile.Build("""{"a":{"dtype":"F32","shape":[-0,4],"data_offsets":[0,0]}}""", []),
            "tensor 'a' shape holds the number -0; it must hold non-negative integers");
    }

    // ------------------------------------------------------------------ deliberately stricter than the crate

    [Theory]
    [InlineData("""{"a":["F32",[4],[0,16]]}""", "tensor 'a' must be an object, not an array")] // serde's sequence form of a struct
    [InlineData("""{"a":{"dtype":{"F32":null},"shape":[4],"data_offsets":[0,16]}}""", "tensor 'a' dtype must be a string, not an object")] // serde's map form of an enum
    [InlineData("""{"a":{"dtype":"F32","shape":[9223372036854775808,0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "larger than any file or tensor")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "the name 'a' appears twice")]
    public void Serde_corners_and_repeated_names_the_crate_reads_are_refused_saying_why(string header, string problem)
    {
        Read.Fails<CheckpointCorruptException>(SafetensorsFile.Build(header, Four), problem);
    }

    // ------------------------------------------------------------------ values are not validated

    [Theory]
    [InlineData(TensorMemory.Managed)]
    [InlineData(TensorMemory.NativeArena)]
    [InlineData(TensorMemory.MemoryMapped)]
    public void Bool_bytes_other_than_0_or_1_are_read_as_stored_in_every_memory_mode(TensorMemory memory)
    {
        byte[] stored = [1, 0, 2, 255, 128, 7];
        using var file = new TempFile(SafetensorsFile.Build("""{"b":{"dtype":"BOOL","shape":[2,3],"data_offsets":[0,6]}}""", stored), ".safetensors");
        using var checkpoint = Checkpoint.Open(file.Path, new LoadOptions { Memory = memory });

        var bools = checkpoint.Read<bool>("b").ToArray();
        Assert.Equal(stored, System.Runtime.InteropServices.MemoryMarshal.AsBytes(bools.AsSpan()).ToArray());
        Assert.Equal(stored, checkpoint.ReadBytes("b").ToArray());
        Assert.True(bools[2]);
        Assert.True(bools[2] != false);
        Assert.False(bools[2].Equals(true)); // what DType.Bool documents: Equals compares the stored bytes
        Assert.False(bools[1]);
    }

    [Theory]
    [InlineData("bool_bytes.pth")]
    [InlineData("legacy_bool_bytes.pth")]
    public void Bool_bytes_PyTorch_saved_from_a_uint8_view_read_as_PyTorch_reads_them(string name)
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("bool_bytes.torch.json")));
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf(name));

        foreach (var tensor in expected.RootElement.GetProperty("files").GetProperty(name).EnumerateObject())
        {
            var bytes = tensor.Value.GetProperty("bytes").EnumerateArray().Select(b => b.GetByte()).ToArray();
            Assert.Equal(DType.Bool, checkpoint.Tensors[tensor.Name].DType);
            Assert.Equal(bytes, checkpoint.ReadBytes(tensor.Name).ToArray());
            Assert.Equal(bytes, System.Runtime.InteropServices.MemoryMarshal.AsBytes(checkpoint.Read<bool>(tensor.Name).ToArray().AsSpan()).ToArray());
            Assert.Equal(tensor.Value.GetProperty("sha256").GetString(),
                Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(checkpoint.ReadBytes(tensor.Name).Span)));
        }
    }
}
