using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;

namespace StateDict.Fuzz.Differential;

/// <summary>One driver's answer: what CPython's unpickler imported, whether it reached STOP, and what it built.</summary>
internal sealed record PythonRun(string Driver, IReadOnlyList<(string Module, string Name)> Globals, bool Ok, string? Error, string? Root);

/// <summary>
/// The long-running reference process (oracle.py under /usr/bin/python3), fed over a pipe: a 4-byte little-endian
/// length then the bytes; it answers a length then JSON with one <see cref="PythonRun"/> per driver (BytesIO as
/// torch.load reads a zip's data.pkl; a real open file as it reads a legacy file and as pickle.load reads a .pkl).
/// </summary>
internal sealed class Oracle : IDisposable
{
    public static readonly string[] Drivers = ["bytesio", "file"];

    private readonly string _python;
    private Process _process;
    private Stream _in;
    private Stream _out;

    private Oracle(string python)
    {
        _python = python;
        (_process, _in, _out) = Launch(python);
    }

    /// <summary>Debian's CPython (C _pickle) unless STATEDICT_ORACLE_PYTHON names another; null when there is none.</summary>
    public static string? FindPython()
    {
        string? configured = Environment.GetEnvironmentVariable("STATEDICT_ORACLE_PYTHON");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }
        return File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null;
    }

    public static Oracle Start(string python) => new(python);

    private static (Process, Stream, Stream) Launch(string python)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "oracle.py");
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-I"); // isolated: no user site-packages, no PYTHON* environment, no script-directory imports
        info.ArgumentList.Add(script);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {python}");
        return (process, process.StandardInput.BaseStream, process.StandardOutput.BaseStream);
    }

    /// <summary>
    /// Both drivers' answers. Should the oracle process die on an input (CPython itself crashing), it is restarted and
    /// asked once more; a second death answers "failed" for both drivers, with no globals (an oracle crash is not ours).
    /// </summary>
    public IReadOnlyList<PythonRun> Ask(byte[] data)
    {
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                return AskOnce(data);
            }
            catch (IOException)
            {
                Restart();
            }
        }
        return Drivers.Select(d => new PythonRun(d, [], false, "the oracle process died on this input", null)).ToList();
    }

    private void Restart()
    {
        Dispose();
        (_process, _in, _out) = Launch(_python);
    }

    private List<PythonRun> AskOnce(byte[] data)
    {
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, data.Length);
        _in.Write(header);
        _in.Write(data);
        _in.Flush();
        _out.ReadExactly(header);
        var answer = new byte[BinaryPrimitives.ReadInt32LittleEndian(header)];
        _out.ReadExactly(answer);
        using var json = JsonDocument.Parse(answer);
        return Drivers.Select(d => Parse(d, json.RootElement.GetProperty(d))).ToList();
    }

    private static PythonRun Parse(string driver, JsonElement run)
    {
        var globals = run.GetProperty("globals").EnumerateArray()
            .Select(g => (g[0].GetString() ?? "", g[1].GetString() ?? "")).ToList();
        bool ok = run.GetProperty("ok").GetBoolean();
        return new PythonRun(driver, globals, ok,
            run.TryGetProperty("error", out var e) ? e.GetString() : null,
            run.TryGetProperty("root", out var r) ? r.GetString() : null);
    }

    public void Dispose()
    {
        try
        {
            _in.Close();
            if (!_process.WaitForExit(2000))
            {
                _process.Kill();
            }
        }
        catch (IOException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}
