namespace StateDict.Cli;

/// <summary>The CLI's exit codes, and the one place checkpoint errors become them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Unreadable = 1;
    public const int Usage = 2;
    public const int Unsafe = 3;

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
        catch (KeyNotFoundException e)
        {
            io.Error.WriteLine($"statedict: {e.Message}");
            return Unreadable;
        }
        catch (IOException e)
        {
            io.Error.WriteLine($"statedict: {e.Message}");
            return Unreadable;
        }
        catch (UnauthorizedAccessException e)
        {
            io.Error.WriteLine($"statedict: {e.Message}");
            return Unreadable;
        }
    }
}
