namespace StateDict;

/// <summary>
/// The base of every error StateDict raises for a file it cannot or will not read.
/// The message always names the file, the problem and, where known, the place in the file.
/// </summary>
/// <example>
/// <code>
/// try { using var ckpt = Checkpoint.Open("model.pth"); }
/// catch (CheckpointUnsafeException e) { Console.Error.WriteLine(e.Message); }  // names e.g. posix.system
/// catch (CheckpointException e) { Console.Error.WriteLine(e.Message); }        // corrupt or unsupported
/// </code>
/// </example>
public class CheckpointException : Exception
{
    /// <summary>Creates an exception for <paramref name="filePath"/>.</summary>
    public CheckpointException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file the problem was found in, as the caller named it.</summary>
    public string FilePath { get; }

    /// <summary>The problem alone, without the file name.</summary>
    public string Problem { get; }
}

/// <summary>The file is not a PyTorch checkpoint, or uses a feature StateDict does not read.</summary>
public sealed class CheckpointFormatException(string filePath, string problem, Exception? inner = null)
    : CheckpointException(filePath, problem, inner);

/// <summary>The file looks like a checkpoint but is damaged: truncated, inconsistent or out of bounds.</summary>
public sealed class CheckpointCorruptException(string filePath, string problem, Exception? inner = null)
    : CheckpointException(filePath, problem, inner);

/// <summary>
/// The file references Python globals outside the allow-list (for example <c>posix.system</c>,
/// or a whole pickled module such as <c>__main__.MLP</c>). Nothing was executed: StateDict never runs code from a file.
/// </summary>
public sealed class CheckpointUnsafeException : CheckpointException
{
    /// <summary>Creates the exception listing every refused global.</summary>
    public CheckpointUnsafeException(string filePath, string problem, IReadOnlyList<string> refusedGlobals)
        : base(filePath, problem)
    {
        RefusedGlobals = refusedGlobals;
    }

    /// <summary>The refused globals as <c>module.name</c>, in the order they first appear in the file.</summary>
    public IReadOnlyList<string> RefusedGlobals { get; }
}

/// <summary>A tensor was read with an element type that does not match its stored dtype.</summary>
public sealed class TensorTypeMismatchException(string filePath, string key, DType stored, Type requested)
    : CheckpointException(filePath,
        $"tensor '{key}' is stored as {stored.Name()} ({stored.ElementType().Name}); it cannot be read as {requested.Name}. Use Read<{stored.ElementType().Name}>(\"{key}\").")
{
    /// <summary>The tensor's key.</summary>
    public string Key { get; } = key;

    /// <summary>The dtype the file stores.</summary>
    public DType Stored { get; } = stored;

    /// <summary>The element type that was asked for.</summary>
    public Type Requested { get; } = requested;
}
