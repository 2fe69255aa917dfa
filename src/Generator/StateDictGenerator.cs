using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Emit;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;

namespace StateDict.Generator
{
    /// <summary>
    /// Generates typed parameter classes for <c>[StateDictSchema("x.schema.json")] partial class</c> declarations.
    /// Wiring only: parsing lives in <see cref="SchemaParser"/> and <see cref="TargetParser"/>, decisions in
    /// <see cref="Resolution"/> and <see cref="ModuleTreeBuilder"/>, code in <see cref="Emitter"/>.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class StateDictGenerator : IIncrementalGenerator
    {
        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Each schema is parsed on its own, so editing one re-parses only that one.
            var schemas = context.AdditionalTextsProvider
                .Where(static text => text.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                .Select(static (text, ct) => SchemaParser.Parse(text.Path, text.GetText(ct), ct))
                .WithTrackingName(TrackingNames.Schemas);

            var targets = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    TargetParser.SchemaAttribute,
                    static (node, _) => node is TypeDeclarationSyntax,
                    static (ctx, ct) => TargetParser.Parse(ctx, ct))
                .WithTrackingName(TrackingNames.Targets);

            var projectDirectory = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.projectdir", out var dir) ? dir : "");

            var resolved = targets
                .Combine(schemas.Collect())
                .Combine(projectDirectory)
                .Select(static (input, _) => Resolution.Resolve(input.Left.Left, input.Left.Right, input.Right))
                .WithTrackingName(TrackingNames.Resolved);

            context.RegisterSourceOutput(
                resolved.Select(static (r, _) => r.Spec).WithTrackingName(TrackingNames.Specs),
                static (spc, spec) =>
                {
                    if (spec != null)
                    {
                        spc.AddSource(spec.HintName, SourceText.From(Emitter.Emit(spec), Encoding.UTF8));
                    }
                });

            // [StateDictModule] classes are implemented on their own (prefix-independent); the classes using them check their keys.
            var modules = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    TargetParser.ModuleClassAttribute,
                    static (node, _) => node is TypeDeclarationSyntax,
                    static (ctx, ct) => TargetParser.ParseModule(ctx, ct))
                .WithTrackingName(TrackingNames.ModuleTargets)
                .Select(static (target, _) => Resolution.ResolveModule(target))
                .WithTrackingName(TrackingNames.ModulesResolved);

            context.RegisterSourceOutput(
                modules.Select(static (r, _) => r.Spec).WithTrackingName(TrackingNames.ModuleSpecs),
                static (spc, spec) =>
                {
                    if (spec != null)
                    {
                        spc.AddSource(spec.HintName, SourceText.From(Emitter.EmitModule(spec), Encoding.UTF8));
                    }
                });

            // Collected so that a schema bound by several classes reports each of its problems once, not once per class.
            var diagnostics = resolved.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.Diagnostics).Collect()
                .Combine(modules.Select(static (r, _) => r.Diagnostics).Collect());
            context.RegisterSourceOutput(
                diagnostics.Select(static (both, _) => both.Left.AddRange(both.Right)),
                static (spc, all) => DiagnosticReporting.ReportOnce(spc, all));
        }
    }
}
