using System.Collections.Immutable;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator;

namespace StateDict.Bench;

/// <summary>
/// How long the generator takes on a 10,000-key schema (a GPT-2-like transformer: 800 blocks of 12 tensors plus
/// embeddings and heads), from scratch and after an unrelated edit (what an IDE pays per keystroke).
/// </summary>
[MemoryDiagnoser]
public class GenerationBenchmarks
{
    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private ImmutableArray<AdditionalText> _texts;
    private GeneratorDriver _warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(p => MetadataReference.CreateFromFile(p)).ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(Checkpoint).Assembly.Location));
        var source = CSharpSyntaxTree.ParseText("""
            namespace Bench;
            [StateDict.StateDictSchema("big.schema.json")]
            public partial class Big;
            """, new CSharpParseOptions(LanguageVersion.Preview), path: "/project/Big.cs");
        _compilation = CSharpCompilation.Create("bench", [source], references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        _edited = _compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated {}", new CSharpParseOptions(LanguageVersion.Preview), path: "/project/U.cs"));
        _texts = [new MemoryText("/project/big.schema.json", Schema(10_000))];
        _warm = NewDriver().RunGenerators(_compilation);
    }

    [Benchmark(Description = "10,000-key schema, cold run")]
    public GeneratorDriver Cold() => NewDriver().RunGenerators(_compilation);

    [Benchmark(Description = "10,000-key schema, unrelated edit (incremental)")]
    public GeneratorDriver Incremental() => _warm.RunGenerators(_edited);

    /// <summary>The run result a check can look at: one generated file, no diagnostics.</summary>
    public GeneratorDriverRunResult Check() => NewDriver().RunGenerators(_compilation).GetRunResult();

    private GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(
        [new StateDictGenerator().AsSourceGenerator()], _texts, new CSharpParseOptions(LanguageVersion.Preview), new ProjectDirOptions());

    public static string Schema(int count)
    {
        string[] block = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
            "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"];
        var text = new StringBuilder("{\"format\": \"statedict-schema/1\", \"tensors\": {\n");
        text.Append("\"transformer.wte.weight\": {\"dtype\": \"float32\", \"shape\": [50257, 768]},\n");
        text.Append("\"transformer.wpe.weight\": {\"dtype\": \"float32\", \"shape\": [1024, 768]}");
        int written = 2;
        for (int layer = 0; written < count - 2; layer++)
        {
            foreach (var name in block)
            {
                if (written == count - 2)
                {
                    break;
                }
                text.Append($",\n\"transformer.h.{layer}.{name}\": {{\"dtype\": \"float32\", \"shape\": [768, 768]}}");
                written++;
            }
        }
        text.Append(",\n\"transformer.ln_f.weight\": {\"dtype\": \"float32\", \"shape\": [768]}");
        text.Append(",\n\"lm_head.weight\": {\"dtype\": \"float32\", \"shape\": [50257, 768]}\n}}\n");
        return text.ToString();
    }

    private sealed class MemoryText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class ProjectDirOptions : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options();

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => GlobalOptions;

        private sealed class Options : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value)
            {
                value = key == "build_property.projectdir" ? "/project/" : "";
                return key == "build_property.projectdir";
            }
        }
    }
}
