namespace StateDict.Generator.Model
{
    /// <summary>Everything the emitter needs for one class, as plain equatable data (no locations: layout edits leave it equal).</summary>
    internal sealed record GenerationSpec(
        string Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string ClassName,
        string HintName,
        string SchemaFileName,
        EquatableArray<SchemaEntrySpec> Schema,
        ClassSpec? Root,
        EquatableArray<BoundPropertySpec> Bound)
    {
        /// <summary>Keys that may be absent at load (the own keys of Fallback properties), with the dtype and shape they must have.</summary>
        public EquatableArray<SchemaEntrySpec> Optional { get; init; } = EquatableArray<SchemaEntrySpec>.Empty;

        /// <summary>The Ignore globs, or null when the attribute has none.</summary>
        public EquatableArray<string>? Ignore { get; init; }

        /// <summary>For a class of bound properties: every key must be bound or ignored (a strict load), not only the bound ones present.</summary>
        public bool Complete { get; init; }
    }

    /// <summary>One entry of the generated <c>Schema</c>; kind details (torch names) are null for a dense tensor.</summary>
    internal sealed record SchemaEntrySpec(string Key, string DType, EquatableArray<long> Shape)
    {
        public string? Layout { get; init; }

        public string? QuantizedDType { get; init; }

        public string? QScheme { get; init; }

        public bool IsMeta { get; init; }
    }

    /// <summary>
    /// A bound property to implement; <see cref="Error"/> is set when it could not be bound (it then throws).
    /// <see cref="ElementType"/> is the tensor element type, or the module class of a module or list item.
    /// </summary>
    internal sealed record BoundPropertySpec(string Name, string Key, string Modifiers, string ElementType, string Doc, string? Error)
    {
        public PropertyKind Kind { get; init; }

        /// <summary>For a tensor: dense, sparse, quantized or meta (the property type and how it is read).</summary>
        public TensorKind TensorKind { get; init; }

        /// <summary>
        /// A tensor whose element type may differ from its dtype's (converted on load, or unknown until run time in a
        /// module class). With no chunk and no fallback either, the property is a plain <c>Get</c>.
        /// </summary>
        public bool Convert { get; init; }

        public string? Fallback { get; init; }

        public int Chunk { get; init; }

        public int Chunks { get; init; }
    }

    /// <summary>A [StateDictModule] class to implement: a constructor taking the binding and its key prefix, and its properties.</summary>
    internal sealed record ModuleSpec(
        string Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string ClassName,
        string HintName,
        EquatableArray<BoundPropertySpec> Properties);

    /// <summary>A generated class: the user's class (root), a module, or a list item.</summary>
    internal sealed record ClassSpec(string TypeName, string Doc, EquatableArray<MemberSpec> Members, EquatableArray<ClassSpec> Nested);

    internal enum MemberKind
    {
        Tensor,
        Module,
        ModuleList,
        TensorList,
    }

    /// <summary>
    /// A property of a generated class. <see cref="Segment"/> is the key segment below the class's prefix;
    /// <see cref="Type"/> is the tensor element type (tensors, tensor lists) or the nested class name (modules, lists).
    /// <see cref="Convert"/> marks tensors read converted to <see cref="Type"/> (ConvertTo).
    /// </summary>
    internal sealed record MemberSpec(string Name, MemberKind Kind, string Segment, string Type, bool Nullable, string Doc)
    {
        public bool Convert { get; init; }

        /// <summary>For a tensor: dense, sparse, quantized or meta.</summary>
        public TensorKind TensorKind { get; init; }
    }
}
