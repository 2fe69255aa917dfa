using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;

namespace StateDict.Generator.Config
{
    /// <summary>
    /// Generates typed properties and <c>Load</c>/<c>Parse</c> for <c>[StateDictConfig("config.json")] partial class</c>
    /// declarations. Wiring only: <see cref="ConfigTargetParser"/> and <see cref="ConfigParser"/> read the inputs,
    /// <see cref="ConfigResolver"/> decides, <see cref="ConfigEmitter"/> writes.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class StateDictConfigGenerator : IIncrementalGenerator
    {
        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var targets = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    ConfigTargetParser.Attribute,
                    static (node, _) => node is TypeDeclarationSyntax,
                    static (ctx, ct) => ConfigTargetParser.Parse(ctx, ct))
                .WithTrackingName(ConfigTrackingNames.ConfigTargets);

            // Only the files some class names are parsed (by file name; the resolver picks among them), each on its own.
            var wanted = targets.Select(static (t, _) => PathNames.FileName(t.ConfigPath)).Collect();
            var files = context.AdditionalTextsProvider
                .Combine(wanted)
                .Where(static pair => ConfigResolver.IsWanted(pair.Left.Path, pair.Right))
                .Select(static (pair, ct) => ConfigParser.Parse(pair.Left.Path, pair.Left.GetText(ct), ct))
                .WithTrackingName(ConfigTrackingNames.ConfigFiles);

            var projectDirectory = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.projectdir", out var dir) ? dir : "");

            var resolved = targets
                .Combine(files.Collect())
                .Combine(projectDirectory)
                .Select(static (input, _) => ConfigResolver.Resolve(input.Left.Left, input.Left.Right, input.Right))
                .WithTrackingName(ConfigTrackingNames.ConfigResolved);

            context.RegisterSourceOutput(
                resolved.Select(static (r, _) => r.Spec).WithTrackingName(ConfigTrackingNames.ConfigSpecs),
                static (spc, spec) =>
                {
                    if (spec != null)
                    {
                        spc.AddSource(spec.HintName, SourceText.From(ConfigEmitter.Emit(spec), Encoding.UTF8));
                    }
                });

            // Collected so that a config bound by several classes reports each of its problems once.
            context.RegisterSourceOutput(
                resolved.Select(static (r, _) => r.Diagnostics).WithTrackingName(ConfigTrackingNames.ConfigDiagnostics).Collect(),
                static (spc, all) => DiagnosticReporting.ReportOnce(spc, all));
        }
    }
}
