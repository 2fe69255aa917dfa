using System.Runtime.CompilerServices;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;
using StateDict.Containers;
using StateDict.Reading;
using StateDict.Torch;

namespace StateDict;

/// <summary>
/// An open PyTorch checkpoint. Opening reads and checks the pickle only (keys, dtypes, shapes, every bound);
/// tensor bytes are read when asked for. Nothing in the file is ever executed: Python globals outside a small
/// allow-list make the file refused with <see cref="CheckpointUnsafeException"/>.
/// </summary>
/// <example>
/// <code>
/// using var ckpt = Checkpoint.Open("model.pth");
/// foreach (var info in ckpt.Tensors.Values)
///     Console.WriteLine(info);                          // fc1.weight: float32 [32, 16]
/// TensorView&lt;float&gt; w = ckpt.Read&lt;float&gt;("fc1.weight");
/// long epoch = (long)ckpt.Values["epoch"]!;
/// </code>
/// </example>
public sealed partial class Checkpoint : IDisposable
{
    private readonly CheckpointFile _file;
    private readonly IContainer _container;
    private readonly StorageCache _storages;
    private bool _disposed;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Checkpoint(CheckpointFile file, IContainer container, TorchTree tree, LoadOptions options)
    {
        _file = file;
        _container = container;
        var tensors = new OrderedDictionary<string, TensorInfo>(tree.Tensors.Count, StringComparer.Ordinal);
        var values = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var keys = new KeySelection(options, file.Path);
        foreach (var tensor in tree.Tensors)
        {
            if (keys.TryMap(tensor.Key, out var key) && !tensors.TryAdd(key, key == tensor.Key ? tensor : tensor.WithKey(key)))
            {
                throw keys.Collision(key);
            }
        }
        foreach (var (originalKey, value) in tree.Values)
        {
            if (keys.TryMap(originalKey, out var key) && (tensors.ContainsKey(key) || !values.TryAdd(key, value)))
            {
                throw keys.Collision(key);
            }
        }
        keys.EnsureSomethingSelected(tensors.Count + values.Count, tree);
        (SparseTensors, QuantizedTensors) = MapKinds(tree, keys, tensors);
        Tensors = new ReadOnlyDictionary<string, TensorInfo>(tensors);
        Values = new ReadOnlyDictionary<string, object?>(values);
        _storages = new StorageCache(container, file, container.LocateStorages(tree.Storages), options.Memory);
        Warnings = LoadWarnings.For(options, _storages.TotalBytes, file.Path);
    }

    /// <summary>
    /// What this load costs that the options may not have meant, one message each (empty when nothing is worth saying):
    /// <see cref="TensorMemory.Managed"/> on storages of 256 MiB or more, which is about ten times slower than the
    /// arena <see cref="TensorMemory.Auto"/> picks. Nothing is written to any log; print or log them as you see fit.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The file the checkpoint was opened from (tests count its reads).</summary>
    internal CheckpointFile File => _file;

    /// <summary>The path the checkpoint was opened from (the checkpoint file in it, for a model folder).</summary>
    public string Path => _file.Path;

    /// <summary>The container format.</summary>
    public CheckpointFormat Format => _container.Format;

    /// <summary>
    /// The file's free-form string metadata: a safetensors header's <c>__metadata__</c> (e.g. <c>format = pt</c>), or a
    /// sharded index's <c>metadata</c> (non-string values as their JSON text: <c>total_size = 2704</c>). Empty for torch files.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata => _container.Metadata;

    /// <summary>Every tensor, in file order, by flattened key.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>
    /// Every plain value (int as <see cref="long"/> or <see cref="System.Numerics.BigInteger"/>, float as <see cref="double"/>,
    /// <see cref="string"/>, <see cref="bool"/>, None as null, bytes as <see cref="byte"/>[]), in file order, by flattened key.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Values { get; }

    /// <summary>
    /// Opens a checkpoint: written by <c>torch.save</c> (zip or legacy format), a safetensors file, or the index of a
    /// sharded checkpoint (<c>model.safetensors.index.json</c>, <c>pytorch_model.bin.index.json</c>), whose shards open
    /// with it as one checkpoint. The format is told from the content, never from the file name.
    /// </summary>
    /// <param name="path">
    /// The file (<c>.pth</c>, <c>.pt</c>, <c>.bin</c>, <c>.ckpt</c>, <c>.safetensors</c>, <c>*.index.json</c>), or a model folder:
    /// the first of <c>model.safetensors</c>, <c>model.safetensors.index.json</c>, <c>pytorch_model.bin</c>,
    /// <c>pytorch_model.bin.index.json</c> in it is opened (a Hugging Face snapshot: see <see cref="HuggingFaceCache.Find(string, string, string?)"/>).
    /// </param>
    /// <param name="options">Key selection and resource budgets; null for the defaults.</param>
    /// <exception cref="CheckpointUnsafeException">The file names Python globals outside the allow-list.</exception>
    /// <exception cref="CheckpointCorruptException">The file is damaged.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a checkpoint StateDict reads.</exception>
    public static Checkpoint Open(string path, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Open(new CheckpointFile(ModelFolder.Resolve(path)), options);
    }

    /// <summary>
    /// Opens a checkpoint held in memory (any format <see cref="Open(string, LoadOptions?)"/> reads, except a sharded
    /// index, whose shards are files), with the same checks and budgets as a file. In
    /// <see cref="TensorMemory.MemoryMapped"/> mode tensor views point into <paramref name="data"/>, which must stay
    /// unchanged until the checkpoint is disposed.
    /// </summary>
    /// <param name="data">The checkpoint's bytes.</param>
    /// <param name="options">Key selection and resource budgets; null for the defaults.</param>
    /// <param name="name">What messages call the checkpoint (a file name, a URL); "memory" when null.</param>
    public static Checkpoint Open(ReadOnlyMemory<byte> data, LoadOptions? options = null, string? name = null) =>
        Open(new CheckpointFile(data, name ?? "memory"), options);

    /// <summary>
    /// Opens a checkpoint from a stream, from its current position to its end: read once into memory (a checkpoint
    /// needs random access), or used in place when it is a <see cref="MemoryStream"/> with an exposed buffer. The stream
    /// is not disposed. Same checks and budgets as a file; a sharded index cannot be opened this way.
    /// </summary>
    /// <param name="stream">A readable stream; it need not be seekable.</param>
    /// <param name="options">Key selection and resource budgets; null for the defaults.</param>
    /// <param name="name">What messages call the checkpoint; the file's name for a <see cref="FileStream"/>, else "stream", when null.</param>
    public static Checkpoint Open(Stream stream, LoadOptions? options = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Open(CheckpointFile.FromStream(stream, name ?? (stream as FileStream)?.Name ?? "stream"), options);
    }

    private static Checkpoint Open(CheckpointFile file, LoadOptions? options)
    {
        options ??= new LoadOptions();
        IContainer? container = null;
        try
        {
            container = ContainerDetector.Open(file, options.Limits);
            var tree = options.AllowModulePickles ? container.ReadTreeAllowingModulePickles(options.Limits) : container.ReadTree(options.Limits);
            return new Checkpoint(file, container, tree, options);
        }
        catch (Exception e) when (e is not CheckpointException and not KeyNotFoundException and not OutOfMemoryException)
        {
            container?.Dispose();
            file.Dispose();
            throw new CheckpointCorruptException(file.Path, $"unreadable checkpoint: {e.Message}", e);
        }
        catch
        {
            container?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor's elements as <typeparamref name="T"/>, which must match its dtype.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that key.</exception>
    /// <exception cref="TensorTypeMismatchException"><typeparamref name="T"/> is not the tensor's element type.</exception>
    public TensorView<T> Read<T>(string key) where T : unmanaged => Read<T>(Find(key));

    /// <summary>Reads a tensor listed in <see cref="Tensors"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TensorView<T> Read<T>(TensorInfo tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckElementType<T>(tensor);
        ThrowIfMeta(tensor);
        CheckSpanSize(tensor, tensor.ElementCount);
        if (tensor.ElementCount == 0)
        {
            return new TensorView<T>(tensor, ReadOnlyMemory<T>.Empty);
        }
        return new TensorView<T>(tensor, WithViewSigns(tensor, ReadFrom<T>(_storages.Get<T>(tensor.Storage.Root), ViewGeometry.Of(tensor))));
    }

    /// <summary>A conj/neg view's values (never zero-copy: the stored ones transformed, in a copy); others as they are.</summary>
    private static ReadOnlyMemory<T> WithViewSigns<T>(TensorInfo tensor, ReadOnlyMemory<T> values) where T : unmanaged
    {
        if (!tensor.IsConjugate && !tensor.IsNegative)
        {
            return values;
        }
        var copy = values.ToArray();
        ViewSigns.Apply(copy.AsSpan(), tensor.IsConjugate, tensor.IsNegative);
        return copy;
    }

    private void ThrowIfMeta(TensorInfo tensor)
    {
        if (tensor.IsMeta)
        {
            throw new CheckpointFormatException(Path, $"'{tensor.Key}' is a meta tensor: it has a shape and dtype but no data");
        }
    }

    /// <summary>
    /// Copies part of a contiguous tensor, from element <paramref name="elementOffset"/>, into <paramref name="destination"/>:
    /// how to read a tensor too large for one span, or into memory of your own. Unless the storage is already loaded (or
    /// mapped, or compressed), only the requested bytes are read, and the storage is not kept.
    /// </summary>
    public void CopyTo<T>(string key, long elementOffset, Span<T> destination) where T : unmanaged
    {
        var tensor = Find(key);
        CheckElementType<T>(tensor);
        if (!tensor.IsContiguous)
        {
            throw new InvalidOperationException($"'{key}' is a strided view; read it with Read<{typeof(T).Name}>");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(elementOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementOffset + destination.Length, tensor.ElementCount, nameof(destination));
        ThrowIfMeta(tensor);
        var root = tensor.Storage.Root;
        long start = tensor.Storage.ElementOffset + tensor.StorageOffset + elementOffset;
        if (_storages.ForRange<T>(root) is { } storage)
        {
            storage.Span<T>(start, destination.Length).CopyTo(destination);
        }
        else if (!destination.IsEmpty)
        {
            // Only the requested part, straight from the file into the caller's memory: the storage is not loaded.
            _storages.ReadRange(root, start * Unsafe.SizeOf<T>(), MemoryMarshal.AsBytes(destination));
        }
        ViewSigns.Apply(destination, tensor.IsConjugate, tensor.IsNegative);
    }

    /// <summary>
    /// A tensor's bytes, contiguous, row-major and little-endian, whatever its dtype (what the fixtures' SHA-256 covers).
    /// </summary>
    public ReadOnlyMemory<byte> ReadBytes(string key)
    {
        var tensor = Find(key);
        return DTypeDispatch.Invoke(tensor.DType, new BytesOf(this, tensor));
    }

    /// <summary>
    /// Reads every storage now (in copy modes; a no-op for mapped storages), in parallel, reporting progress.
    /// </summary>
    public void Preload(IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var storages = Tensors.Values.Where(t => !t.IsMeta).GroupBy(t => t.StorageKey).Select(g => g.First()).ToList();
        long totalBytes = storages.Sum(t => t.Storage.Root.ByteLength);
        long doneBytes = 0;
        int doneTensors = 0;
        ParallelReads.For(storages.Count, i =>
        {
            var tensor = storages[i];
            DTypeDispatch.Invoke(tensor.DType, new LoadStorage(_storages, tensor.Storage.Root));
            long bytes = Interlocked.Add(ref doneBytes, tensor.Storage.Root.ByteLength);
            int count = Interlocked.Increment(ref doneTensors);
            progress?.Report(new LoadProgress(bytes, totalBytes, count, storages.Count));
        }, cancellationToken);
    }

    /// <summary>Opens a checkpoint and reads all its storages (<see cref="Preload"/>) off the calling thread.</summary>
    public static Task<Checkpoint> OpenAsync(string path, LoadOptions? options = null, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() =>
        {
            var checkpoint = Open(path, options);
            try
            {
                checkpoint.Preload(progress, cancellationToken);
                return checkpoint;
            }
            catch
            {
                checkpoint.Dispose();
                throw;
            }
        }, cancellationToken);

    /// <summary>
    /// Saves the checkpoint's tensors and values as a <c>.pth</c> that <c>torch.load(weights_only=True)</c> reads
    /// (storages shared as in this file, views kept) or as <c>.safetensors</c> (contiguous tensors, tied ones written
    /// once with the alias in <c>__metadata__</c>; plain values left out). The format is
    /// <see cref="SaveOptions.Format"/>, else told by the extension. To change what is saved, use
    /// <see cref="StateDictWriter.From(Checkpoint)"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">Safetensors has no dtype for one of the tensors (complex128).</exception>
    public void Save(string path, SaveOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        StateDictWriter.From(this).Save(path, options);
    }

    /// <summary>A storage's elements (read on first use), for the writer.</summary>
    internal StorageBuffer StorageBuffer(StorageRef storage)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return DTypeDispatch.Invoke(storage.DType!.Value, new LoadStorage(_storages, storage));
    }

    /// <summary>
    /// Closes the file and frees native tensor memory. Views over mapped or arena memory throw
    /// <see cref="ObjectDisposedException"/> afterwards; a view is valid until its checkpoint is disposed.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _storages.Dispose();
        _container.Dispose();
        _file.Dispose();
    }

    private void CheckElementType<T>(TensorInfo tensor)
    {
        if (tensor.DType.ElementType() != typeof(T))
        {
            throw new TensorTypeMismatchException(Path, tensor.Key, tensor.DType, typeof(T));
        }
    }

    private TensorInfo Find(string key) =>
        Lookup(Tensors, key, "tensor", static (checkpoint, key) => checkpoint.Values.ContainsKey(key) ? " (it is a plain value: see Values)" : "");

    /// <summary>
    /// The entry of <paramref name="table"/> under <paramref name="key"/>, or a <see cref="KeyNotFoundException"/> naming the
    /// file, the closest key, and (from <paramref name="elsewhere"/>, static so the hit path allocates nothing) where else the key is.
    /// </summary>
    private TInfo Lookup<TInfo>(IReadOnlyDictionary<string, TInfo> table, string key, string what, Func<Checkpoint, string, string> elsewhere)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (table.TryGetValue(key, out var info))
        {
            return info;
        }
        var suggestion = KeySuggestions.Closest(key, table.Keys);
        throw new KeyNotFoundException($"{Path}: no {what} '{key}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}" + elsewhere(this, key));
    }

    private sealed class BytesOf(Checkpoint checkpoint, TensorInfo tensor) : IElementFunc<ReadOnlyMemory<byte>>
    {
        public ReadOnlyMemory<byte> Invoke<T>() where T : unmanaged => MemoryMarshal.AsBytes(checkpoint.Read<T>(tensor).Span).ToArray();
    }

    private sealed class LoadStorage(StorageCache cache, StorageRef storage) : IElementFunc<StorageBuffer>
    {
        public StorageBuffer Invoke<T>() where T : unmanaged => cache.Get<T>(storage);
    }
}
