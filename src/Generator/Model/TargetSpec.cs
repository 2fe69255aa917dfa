namespace StateDict.Generator.Model
{
    /// <summary>A type that contains the target class, re-declared around the generated part (e.g. "partial class Outer").</summary>
    internal sealed record ContainingType(string Keyword, string Name);

    /// <summary>A user-declared <c>[TensorKey("key")] partial TensorView&lt;T&gt; Name { get; }</c> property.</summary>
    internal sealed record BoundProperty(
        string Name,
        string Key,
        string Modifiers,
        string? ElementType,
        string DisplayType,
        LocationInfo? KeyLocation,
        LocationInfo? TypeLocation);

    /// <summary>What the attribute on one class asks for (from syntax and symbols, reduced to plain data).</summary>
    internal sealed record TargetSpec(
        string Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string ClassName,
        string FullName,
        string SchemaPath,
        LocationInfo? SchemaArgumentLocation,
        EquatableArray<BoundProperty> Properties,
        EquatableArray<string> UserMemberNames,
        EquatableArray<DiagnosticInfo> Diagnostics);
}
