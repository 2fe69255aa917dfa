using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;

namespace StateDict.Generator.Parsing
{
    /// <summary>Turns a class carrying [StateDictSchema] or [StateDictModule] into plain data: no symbols kept.</summary>
    internal static class TargetParser
    {
        public const string SchemaAttribute = "StateDict.StateDictSchemaAttribute";
        public const string ModuleClassAttribute = "StateDict.StateDictModuleAttribute";

        public static TargetSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var attribute = context.Attributes[0];
            var diagnostics = new List<DiagnosticInfo>();
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;

            string schemaPath = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string p ? p : "";
            var argument = attributeSyntax?.ArgumentList?.Arguments.FirstOrDefault();
            var argumentLocation = LocationInfo.From(argument?.GetLocation() ?? syntax.Identifier.GetLocation());

            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, LocationInfo.From(syntax.Identifier.GetLocation()), type.Name));
            }
            if (!(syntax is ClassDeclarationSyntax) || type.IsStatic || type.IsAbstract)
            {
                string kind = syntax is ClassDeclarationSyntax ? (type.IsStatic ? "static class" : "abstract class") : syntax.Keyword.Text;
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotAConcreteClass, LocationInfo.From(syntax.Identifier.GetLocation()), type.Name, kind));
            }
            if (type.IsGenericType)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.Generic, LocationInfo.From(syntax.Identifier.GetLocation()), type.Name));
            }
            var containing = ContainingTypes(type, syntax, diagnostics);
            var properties = PropertyParser.Properties(type, diagnostics, cancellationToken);
            string? convertTo = ConvertTo(attribute, attributeSyntax, diagnostics);

            string ns = Namespace(type);
            var userMembers = type.GetMembers().Where(m => !m.IsImplicitlyDeclared).Select(m => m.Name).Distinct().OrderBy(n => n, System.StringComparer.Ordinal);
            return new TargetSpec(ns, containing, type.Name, type.ToDisplayString(), schemaPath, argumentLocation,
                properties.ToEquatableArray(), userMembers.ToEquatableArray(), diagnostics.ToEquatableArray())
            {
                ConvertTo = convertTo,
                Ignore = Ignore(attribute),
                Modules = PropertyParser.ModuleTypes(type, cancellationToken),
            };
        }

        /// <summary>A [StateDictModule] class: its header checks and bound properties (its keys are checked by the classes using it).</summary>
        public static ModuleTargetSpec ParseModule(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var diagnostics = new List<DiagnosticInfo>();
            string? problem = PropertyParser.ModuleProblem(type);
            if (problem != null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadModuleType, LocationInfo.From(syntax.Identifier.GetLocation()), type.Name, problem));
            }
            var containing = ContainingTypes(type, syntax, diagnostics);
            var properties = PropertyParser.Properties(type, diagnostics, cancellationToken);
            return new ModuleTargetSpec(Namespace(type), containing, type.Name, type.ToDisplayString(), properties.ToEquatableArray(), diagnostics.ToEquatableArray());
        }

        internal static string Namespace(INamedTypeSymbol type) =>
            type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();

        internal static EquatableArray<ContainingType> ContainingTypes(INamedTypeSymbol type, TypeDeclarationSyntax syntax, List<DiagnosticInfo> diagnostics)
        {
            var containing = new List<ContainingType>();
            for (var parent = syntax.Parent as TypeDeclarationSyntax; parent != null; parent = parent.Parent as TypeDeclarationSyntax)
            {
                if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.ContainerNotPartial, LocationInfo.From(syntax.Identifier.GetLocation()), type.Name, parent.Identifier.Text));
                }
                string keyword = parent is RecordDeclarationSyntax record
                    ? (record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record")
                    : parent.Keyword.Text;
                containing.Insert(0, new ContainingType(keyword, parent.Identifier.Text));
            }
            return containing.ToEquatableArray();
        }

        /// <summary>ConvertTo = typeof(float|double|Half|BFloat16); anything else is SD0018.</summary>
        private static string? ConvertTo(AttributeData attribute, AttributeSyntax? syntax, List<DiagnosticInfo> diagnostics)
        {
            var value = PropertyParser.Named(attribute, "ConvertTo");
            if (value is null || value.Value.IsNull || !(value.Value.Value is ITypeSymbol type))
            {
                return null;
            }
            string name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            if (DTypes.IsFloatingElementType(name))
            {
                return name;
            }
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadConvertTo, PropertyParser.NamedArgumentLocation(syntax, "ConvertTo"),
                type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
            return null;
        }

        private static EquatableArray<string>? Ignore(AttributeData attribute)
        {
            var value = PropertyParser.Named(attribute, "Ignore");
            if (value is null || value.Value.IsNull)
            {
                return null;
            }
            return value.Value.Values.Select(v => v.Value as string).Where(v => v != null).Select(v => v!).ToEquatableArray();
        }
    }
}
