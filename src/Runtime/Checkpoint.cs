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
public sealed class Checkpoint : IDisposable
{
    private readonly CheckpointFile _file;
    private readonly IContainer _container;
    private readonly StorageCache _storages;
    private bool _disposed;

    private Checkpoint(CheckpointFile file, IContainer container, TorchTree tree, LoadOptions options)
    {
        _file = file;
        _container = container;
        var tensors = new OrderedDictionary<string, TensorInfo>(StringComparer.Ordinal);
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
        Tensors = new ReadOnlyDictionary<string, TensorInfo>(tensors);
        Values = new ReadOnlyDictionary<string, object?>(values);
        _storages = new StorageCache(container, file, container.LocateStorages(tree.Storages), options.Memory);
    }

    /// <summary>The path the checkpoint was opened from.</summary>
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
    /// <param name="path">The file (<c>.pth</c>, <c>.pt</c>, <c>.bin</c>, <c>.ckpt</c>, <c>.safetensors</c>, <c>*.index.json</c>).</param>
    /// <param name="options">Key selection and resource budgets; null for the defaults.</param>
    /// <exception cref="CheckpointUnsafeException">The file names Python globals outside the allow-list.</exception>
    /// <exception cref="CheckpointCorruptException">The file is damaged.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a checkpoint StateDict reads.</exception>
    public static Checkpoint Open(string path, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new LoadOptions();
        var file = new CheckpointFile(path);
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
            throw new CheckpointCorruptException(path, $"unreadable checkpoint: {e.Message}", e);
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

    /// <summary>TEMP stub: lead's branch implements.</summary>
    public TensorView<T> ReadAs<T>(string key) where T : unmanaged => throw new NotImplementedException();

    /// <summary>TEMP stub: lead's branch implements.</summary>
    public TensorView<T> ReadSlice<T>(string key, params ReadOnlySpan<Range> ranges) where T : unmanaged => throw new NotImplementedException();

    /// <summary>TEMP stub: lead's branch implements.</summary>
    public TensorView<T> ReadSliceAs<T>(string key, params ReadOnlySpan<Range> ranges) where T : unmanaged => throw new NotImplementedException();

    /// <summary>Reads a tensor listed in <see cref="Tensors"/>.</summary>
    public TensorView<T> Read<T>(TensorInfo tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckElementType<T>(tensor);
        if (tensor.ElementCount == 0)
        {
            return new TensorView<T>(tensor, ReadOnlyMemory<T>.Empty);
        }
        if (tensor.ElementCount > Array.MaxLength)
        {
            throw new CheckpointFormatException(Path,
                $"tensor '{tensor.Key}' has {tensor.ElementCount} elements, more than one span can index ({Array.MaxLength}); read it in parts with CopyTo");
        }
        var storage = _storages.Get<T>(tensor.Storage.Root);
        long start = tensor.Storage.ElementOffset + tensor.StorageOffset;
        if (tensor.IsContiguous)
        {
            return new TensorView<T>(tensor, storage.Slice<T>(start, (int)tensor.ElementCount));
        }
        // Only the part of the storage the view can address is needed for the gather.
        long extent = 1;
        for (int d = 0; d < tensor.Shape.Length; d++)
        {
            extent += (tensor.Shape[d] - 1) * tensor.Strides[d];
        }
        var source = storage.Span<T>(start, checked((int)extent));
        return new TensorView<T>(tensor, StridedCopy.Gather(source, 0, tensor.Shape.AsSpan(), tensor.Strides.AsSpan(), tensor.ElementCount));
    }

    /// <summary>
    /// Copies part of a contiguous tensor, from element <paramref name="elementOffset"/>, into <paramref name="destination"/>:
    /// how to read a tensor too large for one span.
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
        var storage = _storages.Get<T>(tensor.Storage.Root);
        storage.Span<T>(tensor.Storage.ElementOffset + tensor.StorageOffset + elementOffset, destination.Length).CopyTo(destination);
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
        var storages = Tensors.Values.GroupBy(t => t.StorageKey).Select(g => g.First()).ToList();
        long totalBytes = storages.Sum(t => t.Storage.Root.ByteLength);
        long doneBytes = 0;
        int doneTensors = 0;
        Parallel.ForEach(storages, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, tensor =>
        {
            DTypeDispatch.Invoke(tensor.DType, new LoadStorage(_storages, tensor.Storage.Root));
            long bytes = Interlocked.Add(ref doneBytes, tensor.Storage.Root.ByteLength);
            int count = Interlocked.Increment(ref doneTensors);
            progress?.Report(new LoadProgress(bytes, totalBytes, count, storages.Count));
        });
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

    private TensorInfo Find(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Tensors.TryGetValue(key, out var tensor))
        {
            return tensor;
        }
        var suggestion = KeySuggestions.Closest(key, Tensors.Keys);
        throw new KeyNotFoundException($"{Path}: no tensor '{key}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}" +
            (Values.ContainsKey(key) ? " (it is a plain value: see Values)" : ""));
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
