using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>
/// Walks a pipeline value with reflection and fails on anything that would pin a compilation in memory or defeat
/// caching (NetEscapades' AssertObjectGraph; dotnet/runtime's SourceGenModelDoesNotEncapsulateSymbolsOrCompilationData).
/// </summary>
public static class ObjectGraph
{
    private static readonly Type[] Forbidden =
    [
        typeof(Compilation), typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel),
        typeof(SourceText), typeof(Location), typeof(AdditionalText), typeof(AnalyzerConfigOptions), typeof(AttributeData),
    ];

    public static void AssertHoldsNoRoslynObjects(object? value, string path)
    {
        Walk(value, path, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    private static void Walk(object? value, string path, HashSet<object> visited)
    {
        if (value is null)
        {
            return;
        }
        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is string || value is decimal)
        {
            return;
        }
        foreach (var forbidden in Forbidden)
        {
            Assert.False(forbidden.IsAssignableFrom(type), $"{path} holds a {type.FullName}, which is a {forbidden.Name}");
        }
        Assert.False(type.Namespace?.StartsWith("Microsoft.CodeAnalysis.CSharp.Syntax", StringComparison.Ordinal) == true, $"{path} holds syntax: {type.FullName}");
        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (var item in items)
            {
                Walk(item, $"{path}[{i++}]", visited);
            }
        }
        for (var t = type; t != null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
                {
                    continue;
                }
                Walk(field.GetValue(value), $"{path}.{field.Name}", visited);
            }
        }
    }
}
