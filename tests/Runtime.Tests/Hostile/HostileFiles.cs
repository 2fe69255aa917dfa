using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using StateDict.Tests.Pickle;
using Xunit;

namespace StateDict.Tests.Hostile;

/// <summary>A file under the temp directory with a unique name, deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    public TempFile(ReadOnlySpan<byte> contents, string extension = ".pth")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"statedict-hostile-{Guid.NewGuid():N}{extension}");
        Write(contents);
    }

    public string Path { get; }

    /// <summary>Replaces the contents.</summary>
    public void Write(ReadOnlySpan<byte> contents) => File.WriteAllBytes(Path, contents);

    /// <summary>
    /// Cuts the file to its first <paramref name="length"/> bytes. Much cheaper than rewriting it in an every-offset
    /// sweep (rewriting from empty makes some file systems flush on close), so sweeps go from long to short.
    /// </summary>
    public void Truncate(long length)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write);
        stream.SetLength(length);
    }

    /// <summary>Overwrites the single byte at <paramref name="offset"/>.</summary>
    public void Poke(long offset, byte value)
    {
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, new[] { value }, offset);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file must not fail a test.
        }
    }
}

/// <summary>Builds small torch.save-style zip archives (PREFIX/data.pkl + PREFIX/data/KEY) with System.IO.Compression.</summary>
internal static class TorchZip
{
    public static byte[] Build(byte[] pickle, IReadOnlyDictionary<string, byte[]>? storages = null, string prefix = "archive/",
        CompressionLevel pickleLevel = CompressionLevel.NoCompression, CompressionLevel storageLevel = CompressionLevel.NoCompression,
        IReadOnlyDictionary<string, byte[]>? extraEntries = null)
    {
        var records = new List<(string Name, byte[] Data, CompressionLevel Level)> { (prefix + "data.pkl", pickle, pickleLevel) };
        foreach (var (key, data) in storages ?? new Dictionary<string, byte[]>())
        {
            records.Add((prefix + "data/" + key, data, storageLevel));
        }
        records.Add((prefix + "version", "3\n"u8.ToArray(), CompressionLevel.NoCompression));
        foreach (var (name, data) in extraEntries ?? new Dictionary<string, byte[]>())
        {
            records.Add((name, data, CompressionLevel.NoCompression));
        }
        return Zip(records);
    }

    public static byte[] Zip(IEnumerable<(string Name, byte[] Data, CompressionLevel Level)> records)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data, level) in records)
            {
                using var entry = zip.CreateEntry(name, level).Open();
                entry.Write(data);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// <c>OrderedDict([(name, _rebuild_tensor_v2(('storage', torch.{storageClass}, key, 'cpu', numel), offset, size, stride, False, OrderedDict()))])</c>
    /// for each tensor, as torch.save writes a state_dict (protocol 2).
    /// </summary>
    public static byte[] StateDict(params (string Name, string StorageClass, string Key, long Numel, long Offset, long[] Size, long[] Stride)[] tensors)
    {
        var pickle = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark();
        foreach (var t in tensors)
        {
            pickle.BinUnicode(t.Name).Tensor(t.StorageClass, t.Key, t.Numel, t.Offset, t.Size, t.Stride);
        }
        return pickle.SetItems().Stop().ToArray();
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

    /// <summary>Offset of the central directory header of <paramref name="name"/>.</summary>
    public static int CentralHeaderOf(byte[] zip, string name)
    {
        var pattern = Encoding.UTF8.GetBytes(name);
        for (int at = zip.AsSpan().IndexOf("PK\x01\x02"u8); at >= 0;)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28));
            if (zip.AsSpan(at + 46, nameLength).SequenceEqual(pattern))
            {
                return at;
            }
            int next = zip.AsSpan(at + 4).IndexOf("PK\x01\x02"u8);
            at = next < 0 ? -1 : at + 4 + next;
        }
        throw new InvalidOperationException($"no central directory entry named {name}");
    }

    /// <summary>Offset of the local header of <paramref name="name"/> (from its central directory entry).</summary>
    public static int LocalHeaderOf(byte[] zip, string name) =>
        (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(CentralHeaderOf(zip, name) + 42));

    /// <summary>The zip compression method the central directory records for <paramref name="name"/> (0 stored, 8 deflated).</summary>
    public static int MethodOf(byte[] zip, string name) => BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(CentralHeaderOf(zip, name) + 10));
}

/// <summary>Opening checkpoints and reading every tensor, as a caller would.</summary>
internal static class Read
{
    /// <summary>Every tensor's bytes, or null when the file is refused with a deliberate, typed error naming it; anything else fails the test.</summary>
    public static Dictionary<string, byte[]>? TryAll(string path, string context)
    {
        try
        {
            return All(path);
        }
        catch (CheckpointException e)
        {
            Assert.True(e.FilePath == path, $"{context}: the exception names '{e.FilePath}'");
            Assert.False(e.Problem.StartsWith("unreadable checkpoint:", StringComparison.Ordinal),
                $"{context}: only the catch-all caught {e.InnerException?.GetType().Name}: {e.Message}");
            return null;
        }
        catch (Exception e)
        {
            Assert.Fail($"{context}: {e.GetType().Name} escaped: {e.Message}");
            return null;
        }
    }

    /// <summary>Opens <paramref name="path"/> and reads every tensor's bytes.</summary>
    public static Dictionary<string, byte[]> All(string path, LoadOptions? options = null)
    {
        using var checkpoint = Checkpoint.Open(path, options);
        return checkpoint.Tensors.Keys.ToDictionary(k => k, k => checkpoint.ReadBytes(k).ToArray());
    }

    /// <summary>Writes <paramref name="contents"/> to a temp file and asserts opening it fails with exactly <typeparamref name="T"/>.</summary>
    public static T Fails<T>(byte[] contents, string problem) where T : CheckpointException
    {
        using var file = new TempFile(contents);
        var e = Assert.Throws<T>(() => All(file.Path));
        Assert.Equal(file.Path, e.FilePath);
        Assert.StartsWith(file.Path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        return e;
    }
}
