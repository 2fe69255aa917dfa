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
    /// <summary>Turns a class carrying [StateDictSchema] into a <see cref="TargetSpec"/>: plain data, no symbols kept.</summary>
    internal static class TargetParser
    {
        public const string SchemaAttribute = "StateDict.StateDictSchemaAttribute";
        public const string TensorKeyAttribute = "StateDict.TensorKeyAttribute";
        private const string TensorView = "global::StateDict.TensorView<T>";

        public static TargetSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var attribute = context.Attributes[0];
            var diagnostics = new List<DiagnosticInfo>();
            var classLocation = LocationInfo.From(syntax.Identifier.GetLocation());

            string schemaPath = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string p ? p : "";
            var argument = (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax)?.ArgumentList?.Arguments.FirstOrDefault();
            var argumentLocation = LocationInfo.From(argument?.GetLocation() ?? syntax.Identifier.GetLocation());

            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, classLocation, type.Name));
            }
            if (!(syntax is ClassDeclarationSyntax) || type.IsStatic || type.IsAbstract)
            {
                string kind = syntax is ClassDeclarationSyntax ? (type.IsStatic ? "static class" : "abstract class") : syntax.Keyword.Text;
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotAConcreteClass, classLocation, type.Name, kind));
            }
            if (type.IsGenericType)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.Generic, classLocation, type.Name));
            }
            var containing = new List<ContainingType>();
            for (var parent = syntax.Parent as TypeDeclarationSyntax; parent != null; parent = parent.Parent as TypeDeclarationSyntax)
            {
                if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.ContainerNotPartial, classLocation, type.Name, parent.Identifier.Text));
                }
                string keyword = parent is RecordDeclarationSyntax record
                    ? (record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record")
                    : parent.Keyword.Text;
                containing.Insert(0, new ContainingType(keyword, parent.Identifier.Text));
            }

            var properties = new List<BoundProperty>();
            foreach (var member in type.GetMembers().OfType<IPropertySymbol>())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var keyAttribute = member.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == TensorKeyAttribute);
                if (keyAttribute != null)
                {
                    properties.Add(Property(member, keyAttribute, diagnostics, cancellationToken));
                }
            }

            string ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
            var userMembers = type.GetMembers().Where(m => !m.IsImplicitlyDeclared).Select(m => m.Name).Distinct().OrderBy(n => n, System.StringComparer.Ordinal);
            return new TargetSpec(ns, containing.ToEquatableArray(), type.Name, type.ToDisplayString(), schemaPath, argumentLocation,
                properties.ToEquatableArray(), userMembers.ToEquatableArray(), diagnostics.ToEquatableArray());
        }

        private static BoundProperty Property(IPropertySymbol property, AttributeData attribute, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            string key = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string k ? k : "";
            var keySyntax = (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax)?.ArgumentList?.Arguments.FirstOrDefault();
            var declaration = property.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<PropertyDeclarationSyntax>().FirstOrDefault();
            var propertyLocation = LocationInfo.From(declaration?.Identifier.GetLocation() ?? property.Locations.FirstOrDefault());

            string? elementType = null;
            if (property.Type is INamedTypeSymbol { IsGenericType: true } named
                && named.ConstructedFrom.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) == TensorView
                && property.NullableAnnotation != NullableAnnotation.Annotated)
            {
                elementType = named.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            }
            bool valid = elementType != null
                && declaration != null
                && declaration.Modifiers.Any(SyntaxKind.PartialKeyword)
                && !property.IsStatic
                && property.SetMethod is null
                && property.GetMethod != null
                && declaration.AccessorList?.Accessors.All(a => a.Body is null && a.ExpressionBody is null) == true;
            if (!valid)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.BadTensorKeyProperty, propertyLocation, property.Name));
            }
            string modifiers = declaration is null ? "public" : string.Join(" ", declaration.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text));
            return new BoundProperty(property.Name, key, modifiers, valid ? elementType : null,
                property.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat),
                LocationInfo.From(keySyntax?.GetLocation() ?? declaration?.GetLocation()),
                LocationInfo.From(declaration?.Type.GetLocation()));
        }
    }
}
