namespace StateDict.Cli;

/// <summary>The CLI's exit codes, and the one place checkpoint errors become them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Unreadable = 1;
    public const int Usage = 2;
    public const int Unsafe = 3;

    /// <summary><c>diff</c>: the two checkpoints differ.</summary>
    public const int Different = 4;

    /// <summary>Runs a command body; a bad file becomes a one-line message on stderr and its exit code, never a stack trace.</summary>
    public static int Guard(CliOutput io, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CheckpointUnsafeException e)
        {
            io.Error.WriteLine($"statedict: {e.Message}");
            return Unsafe;
        }
        catch (CheckpointException e)
        {
            io.Error.WriteLine($"statedict: {e.Message}");
            return Unreadable;
        }
        catch (Exception e) when (e is KeyNotFoundException or IOException or UnauthorizedAccessException)
        {
            io.Error.WriteLine($"statedict: {e.Message}");
            return Unreadable;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug of ours, not the file's: still one line and no stack trace, but say so.
            io.Error.WriteLine($"statedict: internal error ({e.GetType().Name}): {e.Message}. Please report this with the file.");
            return Unreadable;
        }
    }
}
