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
    /// <summary>Reads a class's [TensorKey], [Module] and [ModuleList] properties, and the module classes they reach.</summary>
    internal static class PropertyParser
    {
        private const string TensorKeyAttribute = "StateDict.TensorKeyAttribute";
        private const string ModuleAttribute = "StateDict.ModuleAttribute";
        private const string ModuleListAttribute = "StateDict.ModuleListAttribute";
        private const string TensorView = "global::StateDict.TensorView<T>";
        private const string SparseTensor = "global::StateDict.SparseTensor<T>";
        private const string QuantizedTensor = "global::StateDict.QuantizedTensor";
        private const string TensorInfo = "global::StateDict.TensorInfo";
        private const string ReadOnlyList = "global::System.Collections.Generic.IReadOnlyList<T>";

        /// <summary>The bound properties of <paramref name="type"/>, in declaration order; bad declarations are reported.</summary>
        public static List<BoundProperty> Properties(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            var properties = new List<BoundProperty>();
            foreach (var member in type.GetMembers().OfType<IPropertySymbol>())
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var attribute in member.GetAttributes())
                {
                    var kind = KindOf(attribute.AttributeClass?.ToDisplayString());
                    if (kind != null)
                    {
                        properties.Add(Property(member, kind.Value, attribute, diagnostics, cancellationToken));
                        break;
                    }
                }
            }
            return properties;
        }

        /// <summary>Every class reachable from <paramref name="root"/> through [Module]/[ModuleList] properties, in discovery order.</summary>
        public static EquatableArray<ModuleType> ModuleTypes(INamedTypeSymbol root, CancellationToken cancellationToken)
        {
            var found = new List<ModuleType>();
            var seen = new HashSet<string>();
            var pending = new Queue<INamedTypeSymbol>();
            pending.Enqueue(root);
            while (pending.Count > 0)
            {
                var type = pending.Dequeue();
                foreach (var property in type.GetMembers().OfType<IPropertySymbol>())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var kind = property.GetAttributes().Select(a => KindOf(a.AttributeClass?.ToDisplayString())).FirstOrDefault(k => k != null);
                    var module = kind is PropertyKind.Module or PropertyKind.ModuleList ? ModuleClassOf(property.Type, kind.Value) : null;
                    if (module is null || !seen.Add(module.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)))
                    {
                        continue;
                    }
                    string? problem = ModuleProblem(module);
                    var members = problem is null ? Properties(module, new List<DiagnosticInfo>(), cancellationToken) : new List<BoundProperty>();
                    found.Add(new ModuleType(module.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), module.Name, problem, members.ToEquatableArray()));
                    if (problem is null)
                    {
                        pending.Enqueue(module);
                    }
                }
            }
            return found.ToEquatableArray();
        }

        /// <summary>Why <paramref name="type"/> cannot be a module class, or null when it can.</summary>
        public static string? ModuleProblem(INamedTypeSymbol type)
        {
            if (!type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "StateDict.StateDictModuleAttribute"))
            {
                return "it has no [StateDictModule] attribute";
            }
            var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<TypeDeclarationSyntax>().ToList();
            if (declarations.Count == 0)
            {
                return "it is not declared in this project";
            }
            if (type.TypeKind != TypeKind.Class || type.IsStatic || type.IsAbstract || type.IsRecord)
            {
                return "it must be a non-static, non-abstract class";
            }
            return declarations.All(d => d.Modifiers.Any(SyntaxKind.PartialKeyword)) ? null : "it is not partial";
        }

        public static TypedConstant? Named(AttributeData attribute, string name)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == name)
                {
                    return argument.Value;
                }
            }
            return null;
        }

        public static LocationInfo? NamedArgumentLocation(AttributeSyntax? syntax, string name)
        {
            var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.Text == name);
            return LocationInfo.From(argument?.GetLocation() ?? syntax?.GetLocation());
        }

        private static PropertyKind? KindOf(string? attributeName) => attributeName switch
        {
            TensorKeyAttribute => PropertyKind.Tensor,
            ModuleAttribute => PropertyKind.Module,
            ModuleListAttribute => PropertyKind.ModuleList,
            _ => null,
        };

        private static BoundProperty Property(IPropertySymbol property, PropertyKind kind, AttributeData attribute, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            string key = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string k ? k : "";
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var keySyntax = attributeSyntax?.ArgumentList?.Arguments.FirstOrDefault();
            var declaration = property.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<PropertyDeclarationSyntax>().FirstOrDefault();
            var propertyLocation = LocationInfo.From(declaration?.Identifier.GetLocation() ?? property.Locations.FirstOrDefault());

            string? elementType = null;
            var tensorKind = TensorKind.Dense;
            if (property.NullableAnnotation != NullableAnnotation.Annotated)
            {
                elementType = kind == PropertyKind.Tensor
                    ? TensorElementType(property.Type, out tensorKind)
                    : ModuleClassOf(property.Type, kind)?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
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
                diagnostics.Add(kind == PropertyKind.Tensor
                    ? DiagnosticInfo.Create(Descriptors.BadTensorKeyProperty, propertyLocation, property.Name)
                    : DiagnosticInfo.Create(Descriptors.BadModuleProperty, propertyLocation, property.Name,
                        kind == PropertyKind.Module ? "[Module]" : "[ModuleList]",
                        kind == PropertyKind.Module ? "a [StateDictModule] class" : "IReadOnlyList<T> of a [StateDictModule] class T"));
            }
            string modifiers = declaration is null ? "public" : string.Join(" ", declaration.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text));
            var fallback = Named(attribute, "Fallback");
            return new BoundProperty(property.Name, kind, key, modifiers, valid ? elementType : null,
                property.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat),
                LocationInfo.From(keySyntax?.GetLocation() ?? declaration?.GetLocation()),
                LocationInfo.From(declaration?.Type.GetLocation()),
                Named(attribute, "Chunk")?.Value is int chunk ? chunk : 0,
                Named(attribute, "Chunks")?.Value is int chunks ? chunks : 0,
                NamedArgumentLocation(attributeSyntax, "Chunk"),
                NamedArgumentLocation(attributeSyntax, "Chunks"),
                fallback?.Value as string,
                NamedArgumentLocation(attributeSyntax, "Fallback"))
            {
                TensorKind = tensorKind,
            };
        }

        /// <summary>
        /// The element type of a [TensorKey] property's type and the kind it binds: TensorView&lt;T&gt; (dense),
        /// SparseTensor&lt;T&gt; (sparse), QuantizedTensor and TensorInfo (meta), whose "element type" is the type itself.
        /// </summary>
        private static string? TensorElementType(ITypeSymbol type, out TensorKind kind)
        {
            kind = TensorKind.Dense;
            string name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            if (type is INamedTypeSymbol { IsGenericType: true } named)
            {
                string generic = named.ConstructedFrom.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                kind = generic == SparseTensor ? TensorKind.Sparse : TensorKind.Dense;
                return generic == TensorView || generic == SparseTensor ? named.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) : null;
            }
            kind = name == QuantizedTensor ? TensorKind.Quantized : TensorKind.Meta;
            return name == QuantizedTensor || name == TensorInfo ? name : null;
        }

        /// <summary>The module class of a [Module] property (its type) or a [ModuleList] property (its IReadOnlyList item type).</summary>
        private static INamedTypeSymbol? ModuleClassOf(ITypeSymbol type, PropertyKind kind)
        {
            if (kind == PropertyKind.ModuleList)
            {
                type = type is INamedTypeSymbol { IsGenericType: true } list && list.ConstructedFrom.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) == ReadOnlyList
                    ? list.TypeArguments[0]
                    : null!;
            }
            return type is INamedTypeSymbol { TypeKind: TypeKind.Class, IsGenericType: false } named && named.NullableAnnotation != NullableAnnotation.Annotated ? named : null;
        }
    }
}
