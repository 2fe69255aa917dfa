using StateDict.Pickle;

namespace StateDict.Safety;

/// <summary>
/// The globals that run code or touch files and the network when Python imports and calls them, as picklescan and
/// fickling list them. Consulted by <see cref="GlobalPolicy"/> for names outside the allow-list only.
/// </summary>
internal static class DangerousGlobals
{
    private static readonly Dictionary<string, string> CodeModules = new(StringComparer.Ordinal)
    {
        ["os"] = "operating-system calls (os.system, os.exec*)",
        ["posix"] = "operating-system calls (what os.system pickles to on Linux)",
        ["nt"] = "operating-system calls (what os.system pickles to on Windows)",
        ["subprocess"] = "starts processes",
        ["sys"] = "interpreter internals",
        ["runpy"] = "runs Python modules",
        ["pty"] = "spawns a shell",
        ["pdb"] = "runs the debugger",
        ["code"] = "runs Python code",
        ["codeop"] = "compiles Python code",
        ["pickle"] = "a nested unpickler",
        ["_pickle"] = "a nested unpickler",
        ["dill"] = "a nested unpickler",
        ["cloudpickle"] = "a nested unpickler",
        ["joblib"] = "a nested unpickler",
        ["marshal"] = "loads Python bytecode",
        ["types"] = "builds functions and code objects",
        ["importlib"] = "imports arbitrary modules",
        ["pkgutil"] = "resolves arbitrary names",
        ["ctypes"] = "calls native code",
        ["cffi"] = "calls native code",
        ["operator"] = "attribute and method calls (attrgetter, methodcaller)",
        ["_operator"] = "attribute and method calls (attrgetter, methodcaller)",
        ["functools"] = "builds calls (partial)",
        ["copyreg"] = "reconstructs arbitrary objects",
        ["asyncio"] = "starts subprocesses and connections",
        ["multiprocessing"] = "starts processes",
        ["signal"] = "installs signal handlers",
        ["pip"] = "installs packages",
        ["setuptools"] = "runs build scripts",
        ["distutils"] = "runs build scripts",
        ["webbrowser"] = "opens URLs",
        ["numpy.f2py"] = "compiles and runs code",
        ["torch.hub"] = "downloads and runs code",
        ["torch.jit"] = "loads and runs TorchScript",
        ["torch._dynamo"] = "compiles code",
        ["torch._inductor"] = "compiles code",
    };

    private static readonly Dictionary<string, string> FileModules = new(StringComparer.Ordinal)
    {
        ["socket"] = "opens network connections",
        ["ssl"] = "opens network connections",
        ["http"] = "opens network connections",
        ["urllib"] = "opens URLs",
        ["urllib2"] = "opens URLs",
        ["requests"] = "opens URLs",
        ["ftplib"] = "opens network connections",
        ["smtplib"] = "sends mail",
        ["telnetlib"] = "opens network connections",
        ["xmlrpc"] = "calls remote procedures",
        ["io"] = "opens files",
        ["_io"] = "opens files",
        ["tempfile"] = "creates files",
        ["pathlib"] = "reads and writes files",
        ["shutil"] = "copies and deletes files",
        ["glob"] = "lists files",
        ["zipfile"] = "reads and writes archives",
        ["tarfile"] = "reads and writes archives",
        ["logging"] = "writes files (FileHandler)",
    };

    private static readonly Dictionary<string, (GlobalRisk Risk, string Reason)> Builtins = new(StringComparer.Ordinal)
    {
        ["eval"] = (GlobalRisk.CodeExecution, "evaluates Python code"),
        ["exec"] = (GlobalRisk.CodeExecution, "executes Python code"),
        ["compile"] = (GlobalRisk.CodeExecution, "compiles Python code"),
        ["__import__"] = (GlobalRisk.CodeExecution, "imports arbitrary modules"),
        ["getattr"] = (GlobalRisk.CodeExecution, "reaches any attribute, hence any function"),
        ["setattr"] = (GlobalRisk.CodeExecution, "changes any attribute"),
        ["delattr"] = (GlobalRisk.CodeExecution, "deletes any attribute"),
        ["apply"] = (GlobalRisk.CodeExecution, "calls any function"),
        ["globals"] = (GlobalRisk.CodeExecution, "reaches interpreter state"),
        ["locals"] = (GlobalRisk.CodeExecution, "reaches interpreter state"),
        ["vars"] = (GlobalRisk.CodeExecution, "reaches interpreter state"),
        ["breakpoint"] = (GlobalRisk.CodeExecution, "starts the debugger"),
        ["input"] = (GlobalRisk.CodeExecution, "reads the terminal"),
        ["open"] = (GlobalRisk.FileOrNetwork, "opens files"),
        ["file"] = (GlobalRisk.FileOrNetwork, "opens files"),
    };

    private static readonly HashSet<string> TorchLoaders = new(StringComparer.Ordinal)
    {
        "torch.load", "torch.serialization.load", "torch.storage._load_from_bytes", "torch.serialization._load", "torch.storage._load_from_bytes_unsafe",
        "torch._inductor.codecache.compile_file", "torch.jit.unsupported_tensor_ops.execWrapper",
        "torch.utils._config_module.ConfigModule.load_config",
    };

    /// <summary>
    /// How dangerous a global outside the allow-list is, by what Python would do on importing and calling it: run
    /// code, touch files or the network, or (any other name) import something StateDict does not know.
    /// </summary>
    public static (GlobalRisk Risk, string Reason) Assess(PyGlobal global)
    {
        string name = global.FullName;
        if (TorchLoaders.Contains(name))
        {
            return (GlobalRisk.CodeExecution, "a nested loader that unpickles more data with Python's full unpickler");
        }
        if (global.Module == "builtins" && Builtins.TryGetValue(global.Name, out var builtin))
        {
            return builtin;
        }
        if (Lookup(CodeModules, global.Module) is { } code)
        {
            return (GlobalRisk.CodeExecution, code);
        }
        if (Lookup(FileModules, global.Module) is { } file)
        {
            return (GlobalRisk.FileOrNetwork, file);
        }
        return (GlobalRisk.UnknownClass, global.Module == "__main__"
            ? "a class of the script that saved the file (a whole pickled object); Python would import and construct it"
            : "not on the allow-list (torch.load(weights_only=True) refuses it too); Python would import it and may run its code");
    }

    /// <summary>The module or its closest listed parent package (os.path → os).</summary>
    private static string? Lookup(Dictionary<string, string> table, string module)
    {
        for (string? m = module; m is not null; m = m.Contains('.', StringComparison.Ordinal) ? m[..m.LastIndexOf('.')] : null)
        {
            if (table.TryGetValue(m, out var reason))
            {
                return reason;
            }
        }
        return null;
    }
}
