using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;

namespace StateDict.Generator.Config
{
    /// <summary>Turns a class carrying [StateDictConfig] into a <see cref="ConfigTarget"/>: no symbols kept.</summary>
    internal static class ConfigTargetParser
    {
        public const string Attribute = "StateDict.StateDictConfigAttribute";

        public static ConfigTarget Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var attribute = context.Attributes[0];
            var diagnostics = new List<DiagnosticInfo>();
            var identifier = LocationInfo.From(syntax.Identifier.GetLocation());

            string path = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string p ? p : "";
            var argument = (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax)?.ArgumentList?.Arguments.FirstOrDefault();

            string? problem = !syntax.Modifiers.Any(SyntaxKind.PartialKeyword) ? "is not partial"
                : !(syntax is ClassDeclarationSyntax) ? $"is a {syntax.Keyword.Text}; it must be a class"
                : type.IsStatic ? "is static"
                : type.IsAbstract ? "is abstract"
                : type.IsGenericType ? "is generic"
                : null;
            if (problem != null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadConfigClass, identifier, type.Name, problem));
            }
            var containing = TargetParser.ContainingTypes(type, syntax, diagnostics);
            var userMembers = type.GetMembers().Where(m => !m.IsImplicitlyDeclared).Select(m => m.Name).Distinct().OrderBy(n => n, System.StringComparer.Ordinal);
            return new ConfigTarget(TargetParser.Namespace(type), containing, type.Name, type.ToDisplayString(), path,
                LocationInfo.From(argument?.GetLocation() ?? syntax.Identifier.GetLocation()), userMembers.ToEquatableArray(), diagnostics.ToEquatableArray());
        }
    }
}
