using BenchmarkDotNet.Running;
using StateDict.Bench;

// dotnet run -c Release --project bench/Generator.Bench            (all benchmarks)
// dotnet run -c Release --project bench/Generator.Bench -- --check (one run: generated size and diagnostics)
if (args is ["--check"])
{
    var bench = new GenerationBenchmarks();
    bench.Setup();
    var result = bench.Check();
    Console.WriteLine($"generated files: {result.GeneratedTrees.Length}, chars: {result.GeneratedTrees.Sum(t => t.Length)}, diagnostics: {result.Diagnostics.Length}");
    foreach (var d in result.Diagnostics.Take(5))
    {
        Console.WriteLine(d);
    }
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(GenerationBenchmarks).Assembly).Run(args);
