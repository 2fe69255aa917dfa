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
        EquatableArray<BoundPropertySpec> Bound);

    /// <summary>One entry of the generated <c>Schema</c>.</summary>
    internal sealed record SchemaEntrySpec(string Key, string DType, EquatableArray<long> Shape);

    /// <summary>A [TensorKey] property to implement; <see cref="Error"/> is set when it could not be bound (it then throws).</summary>
    internal sealed record BoundPropertySpec(string Name, string Key, string Modifiers, string ElementType, string Doc, string? Error);

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
    /// </summary>
    internal sealed record MemberSpec(string Name, MemberKind Kind, string Segment, string Type, bool Nullable, string Doc);
}
