using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using StateDict.Torch;
using StateDict.Writing;

namespace StateDict;

/// <summary>
/// Builds a checkpoint from tensors and plain values, in order, and saves it as a <c>.pth</c> that
/// <c>torch.load(path, weights_only=True)</c> reads (the zip layout and protocol 2 pickle <c>torch.save</c> writes) or
/// as <c>.safetensors</c>. Tensors are written contiguous, each with its own storage, except that tensors added
/// with the very same bytes (tied weights, or <see cref="Tie"/>) share one storage: one <c>data/N</c> record and
/// one tensor object in the pickle, or in safetensors one entry plus an alias in <c>__metadata__</c>.
/// </summary>
/// <example>
/// <code>
/// var writer = new StateDictWriter()
///     .Add&lt;float&gt;("fc1.weight", [32, 16], weights)          // ReadOnlySpan&lt;float&gt;: copied
///     .Add("fc1.bias", DType.Float32, [32], biasBytes)           // raw little-endian bytes
///     .Tie("lm_head.weight", "embed.weight")
///     .AddValue("epoch", 7);
/// writer.Save("model.pth");                                      // or "model.safetensors"
///
/// using var ckpt = Checkpoint.Open("in.pth");
/// StateDictWriter.From(ckpt).Save("out.safetensors");            // what ckpt.Save does
/// </code>
/// </example>
public sealed partial class StateDictWriter
{
    private readonly List<WriteEntry> _entries = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<long, List<MemoryStorageSource>> _borrowed = [];
    private IReadOnlyDictionary<string, string>? _sourceMetadata;
    private Dictionary<StorageRef, CheckpointStorageSource>? _checkpointSources;

    /// <summary>Keys added so far, in order.</summary>
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    /// <summary>
    /// Everything an open checkpoint holds: its tensors (storages shared as in the file; views keep their offsets and
    /// strides) then its plain values. Bytes are read from <paramref name="checkpoint"/> when saving, so it must stay
    /// open until then.
    /// </summary>
    public static StateDictWriter From(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var writer = new StateDictWriter();
        var sources = new Dictionary<StorageRef, CheckpointStorageSource>(ReferenceEqualityComparer.Instance);
        foreach (var tensor in checkpoint.Tensors.Values)
        {
            if (tensor.IsMeta || tensor.IsConjugate || tensor.IsNegative)
            {
                writer.AddEntry(Materialized(checkpoint, tensor, tensor.Key));
                continue;
            }
            if (writer.AddKindOf(checkpoint, tensor, sources))
            {
                continue;
            }
            writer.AddEntry(Entry(checkpoint, tensor, sources));
        }
        foreach (var (key, value) in checkpoint.Values)
        {
            writer.AddValue(key, value);
        }
        if (checkpoint.Format == CheckpointFormat.Safetensors)
        {
            // safetensors → safetensors keeps the header's metadata (an index's total_size would no longer be true).
            writer._sourceMetadata = checkpoint.Metadata;
        }
        return writer;
    }

    /// <summary>
    /// A meta tensor as itself (no data); a conj/neg view as a plain tensor of the values it reads as (what
    /// <c>resolve_conj()</c>/<c>resolve_neg()</c> give), since torch 1.13 cannot load the view bits.
    /// </summary>
    private static TensorEntry Materialized(Checkpoint checkpoint, TensorInfo tensor, string key)
    {
        if (tensor.IsMeta)
        {
            return new TensorEntry(key, new MemoryStorageSource(tensor.DType, ReadOnlyMemory<byte>.Empty), 0, tensor.Shape, tensor.Strides, tensor.IsParameter)
            {
                IsMeta = true,
            };
        }
        var bytes = checkpoint.ReadBytes(tensor.Key);
        return new TensorEntry(key, new MemoryStorageSource(tensor.DType, bytes), 0, tensor.Shape, RowMajor(tensor.Shape), tensor.IsParameter);
    }

    /// <summary>
    /// Adds a tensor from its raw bytes (contiguous, row-major, little-endian), which are copied. With
    /// <paramref name="isParameter"/> it is written as an <c>nn.Parameter</c> (<c>_rebuild_parameter</c>).
    /// </summary>
    public StateDictWriter Add(string key, DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data, bool isParameter = false)
    {
        var dims = Check(key, dtype, shape, data);
        return AddEntry(new TensorEntry(key, new MemoryStorageSource(dtype, data.ToArray()), 0, dims, RowMajor(dims), isParameter));
    }

    /// <summary>
    /// Adds a tensor over bytes that are not copied: they are read when saving and must not change before.
    /// Two tensors over the very same bytes (same start and length, same dtype and shape) are tied: written once.
    /// </summary>
    public StateDictWriter Add(string key, DType dtype, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data, bool isParameter = false)
    {
        var dims = Check(key, dtype, shape, data.Span);
        if (!_borrowed.TryGetValue(data.Length, out var sameLength))
        {
            _borrowed.Add(data.Length, sameLength = []);
        }
        var source = sameLength.FirstOrDefault(s => s.DType == dtype && s.SameBytes(data));
        if (source is null)
        {
            sameLength.Add(source = new MemoryStorageSource(dtype, data));
        }
        return AddEntry(new TensorEntry(key, source, 0, dims, RowMajor(dims), isParameter));
    }

    /// <summary>Adds a tensor of .NET elements (float → float32, <see cref="Half"/> → float16, …), which are copied.</summary>
    public StateDictWriter Add<T>(string key, ReadOnlySpan<long> shape, ReadOnlySpan<T> data, bool isParameter = false) where T : unmanaged =>
        Add(key, DTypeOf<T>(), shape, MemoryMarshal.AsBytes(data), isParameter);

    /// <summary>
    /// Adds a tensor read from a checkpoint, without copying it (its checkpoint must stay open until saved). Views of
    /// tied weights share their memory and so are written once.
    /// </summary>
    public StateDictWriter Add<T>(string key, TensorView<T> tensor, bool? isParameter = null) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ReadOnlyMemory<byte> bytes = tensor.Length == 0 ? ReadOnlyMemory<byte>.Empty : new ByteMemory<T>(tensor.Memory).Memory;
        return Add(key, tensor.DType, tensor.Shape.AsSpan(), bytes, isParameter ?? tensor.Info.IsParameter);
    }

    /// <summary>Adds <paramref name="key"/> as the same tensor as <paramref name="existingKey"/> (tied weights).</summary>
    public StateDictWriter Tie(string key, string existingKey)
    {
        var existing = _entries.OfType<TensorWriteEntry>().FirstOrDefault(e => e.Key == existingKey)
            ?? throw new KeyNotFoundException($"no tensor '{existingKey}' to tie '{key}' to");
        var t = existing.Tensor;
        return AddEntry(new TensorEntry(key, t.Storage, t.StorageOffset, t.Shape, t.Strides, t.IsParameter));
    }

    /// <summary>
    /// Adds a plain value: an integer (any .NET integer type or <see cref="BigInteger"/>), a float (<see cref="double"/>,
    /// <see cref="float"/>, <see cref="Half"/>), a <see cref="string"/>, a <see cref="bool"/>, null (None), <see cref="byte"/>[]
    /// or <see cref="Complex"/>. Safetensors files have no place for values and leave them out.
    /// </summary>
    public StateDictWriter AddValue(string key, object? value)
    {
        if (value is not (null or bool or long or int or short or sbyte or byte or ushort or uint or ulong or BigInteger
            or double or float or Half or string or byte[] or Complex))
        {
            throw new ArgumentException($"'{key}': a {value.GetType().Name} cannot be saved as a checkpoint value; use an integer, float, string, bool, null, byte[] or Complex", nameof(value));
        }
        return AddEntry(new ValueWriteEntry(key, value));
    }

    /// <summary>Removes a tensor or value; says whether it was there.</summary>
    public bool Remove(string key)
    {
        int index = _entries.FindIndex(e => e.Key == key);
        if (index < 0)
        {
            return false;
        }
        _entries.RemoveAt(index);
        _keys.Remove(key);
        return true;
    }

    /// <summary>
    /// Saves to <paramref name="path"/> (replacing it once the new file is complete). The format comes from
    /// <see cref="SaveOptions.Format"/>, else the extension: <c>.safetensors</c>, otherwise torch's zip <c>.pth</c>,
    /// whose records live under a folder named after the file, as torch.save does.
    /// </summary>
    /// <exception cref="NotSupportedException">Safetensors cannot hold a tensor's dtype (complex128).</exception>
    public void Save(string path, SaveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new SaveOptions();
        var format = SaveOptions.Resolve(options.Format, path);
        string full = System.IO.Path.GetFullPath(path);
        string temp = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Write(stream, format, TorchZipWriter.ArchiveNameFor(full), options);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes to a stream; a <c>.pth</c> archive's folder is then <c>archive</c>, as torch.save names it for buffers.</summary>
    public void Save(Stream stream, SaveFormat format, SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (format == SaveFormat.Auto)
        {
            throw new ArgumentException("a stream has no file name: say SaveFormat.Pth or SaveFormat.Safetensors", nameof(format));
        }
        Write(stream, format, "archive", options ?? new SaveOptions());
    }

    /// <summary>Writes the file; the last four settings exist for tests (torch 1.13's exact output, forced zip64).</summary>
    internal void Write(Stream stream, SaveFormat format, string archiveName, SaveOptions options,
        long zip64Threshold = uint.MaxValue, bool byteOrderRecord = true, bool plainDict = false, long zip64OffsetThreshold = uint.MaxValue)
    {
        if (format == SaveFormat.Safetensors)
        {
            RefuseKindsInSafetensors();
            var tensors = _entries.OfType<TensorWriteEntry>().Select(e => e.Tensor).ToList();
            var names = tensors.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            // The source file's metadata, less aliases it recorded for tensors that are written again here.
            foreach (var (key, value) in _sourceMetadata ?? new Dictionary<string, string>())
            {
                if (!names.Contains(key))
                {
                    metadata[key] = value;
                }
            }
            foreach (var (key, value) in options.Metadata ?? new Dictionary<string, string>())
            {
                metadata[key] = value;
            }
            var plan = SafetensorsWriter.Prepare(tensors, metadata);
            long total = plan.Tensors.Sum(t => t.End - t.Begin);
            SafetensorsWriter.Write(stream, plan, options.Progress is null ? null : done => options.Progress.Report(new LoadProgress(done, total, 0, plan.Tensors.Count)));
            return;
        }
        var (pickle, storages) = TorchPickler.Write(_entries, options.Keys, plainDict);
        var zip = new TorchZipWriter(stream, archiveName, zip64Threshold, zip64OffsetThreshold);
        zip.WriteRecord("data.pkl", pickle);
        if (byteOrderRecord)
        {
            // torch ≥ 2.1 writes it; 1.13 ignores it and assumes little-endian anyway.
            zip.WriteRecord("byteorder", "little"u8);
        }
        long totalBytes = storages.Sum(s => s.Storage.ByteLength);
        long doneBytes = 0;
        int doneStorages = 0;
        // torch.save writes the storages sorted by key as strings (0, 1, 10, 11, …, 2, …).
        foreach (var (key, storage) in storages.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            zip.WriteRecord("data/" + key, storage.ByteLength, (s, observe) => storage.WriteTo(s, 0, storage.ByteLength, chunk =>
            {
                observe(chunk);
                doneBytes += chunk.Length;
                options.Progress?.Report(new LoadProgress(doneBytes, totalBytes, doneStorages, storages.Count));
            }));
            doneStorages++;
        }
        options.Progress?.Report(new LoadProgress(doneBytes, totalBytes, doneStorages, storages.Count));
        zip.WriteRecord("version", "3\n"u8);
        zip.Finish();
    }

    private StateDictWriter AddEntry(TensorEntry tensor) => AddEntry(new TensorWriteEntry(tensor));

    private StateDictWriter AddEntry(WriteEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry.Key);
        if (!_keys.Add(entry.Key))
        {
            throw new ArgumentException($"'{entry.Key}' was already added");
        }
        _entries.Add(entry);
        return this;
    }

    private static ImmutableArray<long> Check(string key, DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Enum.IsDefined(dtype))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"'{key}': shape [{string.Join(", ", shape.ToArray())}] has a negative dimension", nameof(shape));
            }
            count = checked(count * d);
        }
        long expected = checked(count * dtype.ElementSize());
        if (data.Length != expected)
        {
            throw new ArgumentException($"'{key}': {dtype.Name()} [{string.Join(", ", shape.ToArray())}] needs {expected} bytes, got {data.Length}", nameof(data));
        }
        return [.. shape];
    }

    private static ImmutableArray<long> RowMajor(ImmutableArray<long> shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= Math.Max(shape[i], 1);
        }
        return [.. strides];
    }

    private static DType DTypeOf<T>() where T : unmanaged =>
        DTypeInfo.Of<T>() ?? throw new ArgumentException($"{typeof(T).Name} is not the element type of any dtype");

    /// <summary>Reinterprets memory of elements as memory of bytes (same buffer, no copy).</summary>
    private sealed class ByteMemory<T>(ReadOnlyMemory<T> elements) : System.Buffers.MemoryManager<byte> where T : unmanaged
    {
        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(elements.Span), elements.Length));

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
