using System.IO.Compression;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace StateDict.LoadBench;

/// <summary>
/// The per-tensor costs, on small20k.pth (20,000 small tensors; STATEDICT_BENCH_DIR, default /tmp/statedict-bench):
/// the pickle VM alone on its data.pkl, the VM plus the torch tree (what Open does after the zip directory), and the
/// public open paths.
/// </summary>
[MemoryDiagnoser]
public class Small20kBenchmarks
{
    private byte[] _pickle = null!;
    private string _path = null!;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Environment.GetEnvironmentVariable("STATEDICT_BENCH_DIR") is { Length: > 0 } dir ? dir : "/tmp/statedict-bench", "small20k.pth");
        if (!File.Exists(_path))
        {
            throw new FileNotFoundException($"{_path} is missing: run /usr/bin/python3 bench/make_checkpoints.py {Path.GetDirectoryName(_path)}", _path);
        }
        using var zip = ZipFile.OpenRead(_path);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        _pickle = copy.ToArray();
    }

    [Benchmark(Description = "pickle VM: small20k data.pkl")]
    public object PickleVm() => Internals.RunPickle(_pickle, _path);

    [Benchmark(Description = "pickle VM + torch tree: small20k data.pkl")]
    public object PickleVmAndTorchTree() => Internals.ReadTorchTree(_pickle, _path);

    [Benchmark(Description = "Checkpoint.Open + list: small20k.pth (copy mode)")]
    public long Open() => OpenAndList(Runtime.Copy());

    [Benchmark(Description = "Checkpoint.Open + list: small20k.pth (memory-mapped)")]
    public long OpenMapped() => OpenAndList(Runtime.MemoryMapped());

    [Benchmark(Description = "Checkpoint.Open + read every tensor: small20k.pth (copy mode)")]
    public ulong OpenAndReadAll()
    {
        using var checkpoint = Checkpoint.Open(_path, Runtime.Copy());
        ulong sum = 0;
        foreach (var tensor in checkpoint.Tensors.Values)
        {
            sum += Runtime.Touch(checkpoint, tensor, everyByte: false);
        }
        return sum;
    }

    private long OpenAndList(LoadOptions options)
    {
        using var checkpoint = Checkpoint.Open(_path, options);
        long elements = 0;
        foreach (var (key, tensor) in checkpoint.Tensors)
        {
            elements += tensor.ElementCount + key.Length;
        }
        return elements;
    }
}

/// <summary>
/// The runtime's internal pickle VM and torch reader, reached with .NET 10's <see cref="UnsafeAccessorAttribute"/> and
/// <see cref="UnsafeAccessorTypeAttribute"/> (they are internal and the runtime has no InternalsVisibleTo for this
/// project). A renamed member fails here with MissingMethodException at the first call, not at build time.
/// </summary>
internal static class Internals
{
    private const string Machine = "StateDict.Pickle.PickleMachine, StateDict";
    private const string Source = "StateDict.Pickle.PickleSource, StateDict";
    private const string Result = "StateDict.Pickle.PickleResult, StateDict";
    private const string Reader = "StateDict.Torch.TorchReader, StateDict";
    private const string Tree = "StateDict.Torch.TorchTree, StateDict";
    private const string GlobalList = "System.Collections.Generic.List`1[[StateDict.Pickle.PyGlobal, StateDict]]";
    private const string GlobalFilter = "System.Func`2[[StateDict.Pickle.PyGlobal, StateDict],[System.Boolean, System.Private.CoreLib]]";

    public static object RunPickle(byte[] pickle, string path) =>
        Run(null, pickle, NewSource(path, "data.pkl"), CheckpointLimits.Default, null, null);

    public static object ReadTorchTree(byte[] pickle, string path)
    {
        var source = NewSource(path, "data.pkl");
        return Read(null, Run(null, pickle, source, CheckpointLimits.Default, null, null), source, CheckpointLimits.Default);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    [return: UnsafeAccessorType(Source)]
    private static extern object NewSource(string filePath, string part);

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "Run")]
    [return: UnsafeAccessorType(Result)]
    private static extern object Run([UnsafeAccessorType(Machine)] object? type, ReadOnlySpan<byte> data,
        [UnsafeAccessorType(Source)] object source, CheckpointLimits limits,
        [UnsafeAccessorType(GlobalList)] object? globalsSeen, [UnsafeAccessorType(GlobalFilter)] object? refused);

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "Read")]
    [return: UnsafeAccessorType(Tree)]
    private static extern object Read([UnsafeAccessorType(Reader)] object? type, [UnsafeAccessorType(Result)] object pickle,
        [UnsafeAccessorType(Source)] object source, CheckpointLimits limits);
}
