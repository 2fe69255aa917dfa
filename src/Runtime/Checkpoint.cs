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
        _storages = new StorageCache(container, file.Path, container.LocateStorages(tree.Storages));
    }

    /// <summary>The path the checkpoint was opened from.</summary>
    public string Path => _file.Path;

    /// <summary>The container format.</summary>
    public CheckpointFormat Format => _container.Format;

    /// <summary>Every tensor, in file order, by flattened key.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>
    /// Every plain value (int as <see cref="long"/> or <see cref="System.Numerics.BigInteger"/>, float as <see cref="double"/>,
    /// <see cref="string"/>, <see cref="bool"/>, None as null, bytes as <see cref="byte"/>[]), in file order, by flattened key.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Values { get; }

    /// <summary>Opens a checkpoint written by <c>torch.save</c> (zip or legacy format).</summary>
    /// <param name="path">The file (<c>.pth</c>, <c>.pt</c>, <c>.bin</c>, <c>.ckpt</c>).</param>
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
            var tree = TorchReader.Read(container.MainPickle, container.MainSource, options.Limits);
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

    /// <summary>Reads a tensor listed in <see cref="Tensors"/>.</summary>
    public TensorView<T> Read<T>(TensorInfo tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tensor.DType.ElementType() != typeof(T))
        {
            throw new TensorTypeMismatchException(Path, tensor.Key, tensor.DType, typeof(T));
        }
        var storage = _storages.Get<T>(tensor.Storage.Root);
        long start = tensor.Storage.ElementOffset + tensor.StorageOffset;
        if (tensor.ElementCount == 0)
        {
            return new TensorView<T>(tensor, ReadOnlyMemory<T>.Empty);
        }
        if (tensor.IsContiguous)
        {
            return new TensorView<T>(tensor, storage.AsMemory(checked((int)start), checked((int)tensor.ElementCount)));
        }
        // A strided view (e.g. a stride-0 broadcast) can address more elements than its storage holds: check the copy fits.
        if (tensor.ElementCount > Array.MaxLength)
        {
            throw new CheckpointFormatException(Path,
                $"tensor '{tensor.Key}' has {tensor.ElementCount} elements, more than one .NET array can hold ({Array.MaxLength})");
        }
        var gathered = StridedCopy.Gather<T>(storage, start, tensor.Shape.AsSpan(), tensor.Strides.AsSpan(), tensor.ElementCount);
        return new TensorView<T>(tensor, gathered);
    }

    /// <summary>
    /// A tensor's bytes, contiguous, row-major and little-endian, whatever its dtype (what the fixtures' SHA-256 covers).
    /// </summary>
    public ReadOnlyMemory<byte> ReadBytes(string key)
    {
        var tensor = Find(key);
        return tensor.DType switch
        {
            DType.Float32 => Bytes(Read<float>(tensor)),
            DType.Float64 => Bytes(Read<double>(tensor)),
            DType.Float16 => Bytes(Read<Half>(tensor)),
            DType.BFloat16 => Bytes(Read<BFloat16>(tensor)),
            DType.Int64 => Bytes(Read<long>(tensor)),
            DType.Int32 => Bytes(Read<int>(tensor)),
            DType.Int16 => Bytes(Read<short>(tensor)),
            DType.Int8 => Bytes(Read<sbyte>(tensor)),
            DType.UInt8 => Bytes(Read<byte>(tensor)),
            DType.Bool => Bytes(Read<bool>(tensor)),
            DType.Complex64 => Bytes(Read<Complex64>(tensor)),
            DType.Complex128 => Bytes(Read<System.Numerics.Complex>(tensor)),
            DType.UInt16 => Bytes(Read<ushort>(tensor)),
            DType.UInt32 => Bytes(Read<uint>(tensor)),
            DType.UInt64 => Bytes(Read<ulong>(tensor)),
            DType.Float8E4M3FN => Bytes(Read<Float8E4M3FN>(tensor)),
            DType.Float8E5M2 => Bytes(Read<Float8E5M2>(tensor)),
            _ => throw new NotSupportedException(tensor.DType.ToString()),
        };
    }

    /// <summary>Closes the file. Views already read stay valid (they own or share managed arrays).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _container.Dispose();
        _file.Dispose();
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

    private static ReadOnlyMemory<byte> Bytes<T>(TensorView<T> view) where T : unmanaged =>
        MemoryMarshal.AsBytes(view.Span).ToArray();
}
