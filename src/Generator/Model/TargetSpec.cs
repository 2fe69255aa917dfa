namespace StateDict.Generator.Model
{
    /// <summary>A type that contains the target class, re-declared around the generated part (e.g. "partial class Outer").</summary>
    internal sealed record ContainingType(string Keyword, string Name);

    /// <summary>What a bound property holds: a tensor, one module, or a numbered list of modules.</summary>
    internal enum PropertyKind
    {
        Tensor,
        Module,
        ModuleList,
    }

    /// <summary>
    /// A user-declared <c>[TensorKey]</c>, <c>[Module]</c> or <c>[ModuleList]</c> partial property.
    /// <see cref="ElementType"/> is the tensor element type, or the module class (fully qualified) of a module or
    /// list item; null when the declaration cannot be implemented. <see cref="Key"/> is the key or module path.
    /// </summary>
    internal sealed record BoundProperty(
        string Name,
        PropertyKind Kind,
        string Key,
        string Modifiers,
        string? ElementType,
        string DisplayType,
        LocationInfo? KeyLocation,
        LocationInfo? TypeLocation,
        int Chunk,
        int Chunks,
        LocationInfo? ChunkLocation,
        LocationInfo? ChunksLocation,
        string? Fallback,
        LocationInfo? FallbackLocation)
    {
        /// <summary>For a [TensorKey] property: the kind its declared type binds (TensorView, SparseTensor, QuantizedTensor, TensorInfo).</summary>
        public TensorKind TensorKind { get; init; }
    }

    /// <summary>
    /// A class used as a module by some property: its bound properties, or why it cannot be one
    /// (<see cref="Problem"/>: not [StateDictModule], not partial, not in this project).
    /// </summary>
    internal sealed record ModuleType(string FullName, string Name, string? Problem, EquatableArray<BoundProperty> Properties);

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
        EquatableArray<DiagnosticInfo> Diagnostics)
    {
        /// <summary>The ConvertTo element type (fully qualified), null when not given or unsupported.</summary>
        public string? ConvertTo { get; init; }

        /// <summary>The Ignore globs; null when the attribute does not set Ignore.</summary>
        public EquatableArray<string>? Ignore { get; init; }

        /// <summary>Every class reachable through [Module]/[ModuleList] properties, by full name.</summary>
        public EquatableArray<ModuleType> Modules { get; init; } = EquatableArray<ModuleType>.Empty;
    }

    /// <summary>A <c>[StateDictModule]</c> class to implement: where it is declared and its bound properties.</summary>
    internal sealed record ModuleTargetSpec(
        string Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string ClassName,
        string FullName,
        EquatableArray<BoundProperty> Properties,
        EquatableArray<DiagnosticInfo> Diagnostics);
}
