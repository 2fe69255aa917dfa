using System.Globalization;

namespace StateDict.Cli;

/// <summary>
/// A one-line progress bar on stderr, only when stderr is a terminal: redirected output gets nothing, so logs and
/// pipes stay clean. Redraws at most ten times a second.
/// </summary>
internal sealed class ProgressBar : IProgress<LoadProgress>, IDisposable
{
    private const int Width = 30;
    private readonly TextWriter _error;
    private readonly string _label;
    private readonly Lock _lock = new();
    private long _lastDraw;
    private bool _drawn;

    private ProgressBar(TextWriter error, string label)
    {
        _error = error;
        _label = label;
    }

    /// <summary>A bar when <paramref name="io"/> writes to an interactive terminal, otherwise null.</summary>
    public static ProgressBar? ForTerminal(CliOutput io, string label) =>
        ReferenceEquals(io.Error, Console.Error) && !Console.IsErrorRedirected ? new ProgressBar(io.Error, label) : null;

    public void Report(LoadProgress value)
    {
        lock (_lock)
        {
            long now = Environment.TickCount64;
            if (now - _lastDraw < 100 && value.BytesDone < value.BytesTotal)
            {
                return;
            }
            _lastDraw = now;
            int filled = (int)Math.Round(value.Fraction * Width);
            _error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{_label} [{new string('#', filled)}{new string('.', Width - filled)}] {value.Fraction:P0} {value.BytesDone / 1048576.0:0} / {value.BytesTotal / 1048576.0:0} MiB"));
            _drawn = true;
        }
    }

    public void Dispose()
    {
        if (_drawn)
        {
            _error.Write("\r" + new string(' ', _label.Length + Width + 40) + "\r");
        }
    }
}
