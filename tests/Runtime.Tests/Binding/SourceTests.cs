using System.Security.Cryptography;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Binding;

/// <summary>
/// <see cref="Checkpoint.Open(Stream, LoadOptions?, string?)"/> and <see cref="Checkpoint.Open(ReadOnlyMemory{byte}, LoadOptions?, string?)"/>:
/// every format reads from memory exactly as from its file (PyTorch's SHA-256s), with the same refusals.
/// </summary>
public sealed class SourceTests
{
    public static TheoryData<string, TensorMemory> SingleFileFixtures()
    {
        var data = new TheoryData<string, TensorMemory>();
        foreach (string name in Fixtures.Readable())
        {
            if (name.StartsWith("sharded/", StringComparison.Ordinal))
            {
                continue; // shards are files next to the index: see A_sharded_index_in_memory_cannot_reach_its_shards
            }
            foreach (var mode in new[] { TensorMemory.Managed, TensorMemory.NativeArena, TensorMemory.MemoryMapped })
            {
                data.Add(name, mode);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SingleFileFixtures))]
    public void Memory_and_streams_read_every_format_as_PyTorch_wrote_it(string name, TensorMemory mode)
    {
        var bytes = File.ReadAllBytes(Fixtures.PathOf(name));
        var expected = Fixtures.ExpectedFor(name);
        var options = new LoadOptions { Memory = mode };
        using (var fromMemory = Checkpoint.Open(bytes.AsMemory(), options, name))
        {
            AssertTensors(expected, fromMemory);
            Assert.Equal(name, fromMemory.Path);
        }
        using (var fromStream = Checkpoint.Open(new NonSeekableStream(bytes), options))
        {
            AssertTensors(expected, fromStream);
            Assert.Equal("stream", fromStream.Path);
        }
        using var file = File.OpenRead(Fixtures.PathOf(name));
        using var fromFileStream = Checkpoint.Open(file, options);
        AssertTensors(expected, fromFileStream);
        Assert.Equal(Fixtures.PathOf(name), fromFileStream.Path);
    }

    [Fact]
    public void A_stream_is_read_from_its_position_and_left_open()
    {
        var bytes = File.ReadAllBytes(Fixtures.PathOf("mlp.pth"));
        var stream = new MemoryStream();
        stream.Write([1, 2, 3]);
        stream.Write(bytes);
        stream.Position = 3;
        using var checkpoint = Checkpoint.Open(stream);
        AssertTensors(Fixtures.ExpectedFor("mlp.pth"), checkpoint);
        Assert.True(stream.CanRead);
    }

    [Fact]
    public void Unsafe_and_corrupt_bytes_are_refused_naming_the_source()
    {
        var malicious = File.ReadAllBytes(Fixtures.PathOf("malicious_os_system.pth"));
        var unsafeError = Assert.Throws<CheckpointUnsafeException>(() => Checkpoint.Open(malicious.AsMemory(), name: "upload.pth"));
        Assert.StartsWith("upload.pth: ", unsafeError.Message, StringComparison.Ordinal);
        Assert.Contains("posix.system", unsafeError.RefusedGlobals);

        var truncated = File.ReadAllBytes(Fixtures.PathOf("mlp.pth"))[..100];
        var corrupt = Assert.ThrowsAny<CheckpointException>(() => Checkpoint.Open(new MemoryStream(truncated)));
        Assert.Equal("stream", corrupt.FilePath);
        Assert.ThrowsAny<CheckpointException>(() => Checkpoint.Open(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void A_sharded_index_in_memory_cannot_reach_its_shards()
    {
        var index = File.ReadAllBytes(Fixtures.PathOf("sharded/model.safetensors.index.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(index.AsMemory(), name: "model.safetensors.index.json"));
        Assert.Contains("cannot open its shards", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Views_over_memory_die_with_the_checkpoint()
    {
        var bytes = File.ReadAllBytes(Fixtures.PathOf("mlp.pth"));
        var checkpoint = Checkpoint.Open(bytes.AsMemory(), new LoadOptions { Memory = TensorMemory.MemoryMapped });
        var view = checkpoint.Read<float>(checkpoint.Tensors.Keys.First());
        _ = view.Span[0];
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.Span[0]);
    }

    internal static void AssertTensors(Expected expected, Checkpoint checkpoint)
    {
        Assert.Equal(expected.Tensors.Select(t => t.Key), checkpoint.Tensors.Keys);
        foreach (var tensor in expected.Tensors)
        {
            Assert.Equal(tensor.Sha256, Convert.ToHexStringLower(SHA256.HashData(checkpoint.ReadBytes(tensor.Key).Span)));
        }
    }

    /// <summary>A stream that can only be read forward, like a network response.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 1000));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
