namespace StateDict;

/// <summary>
/// Generates strongly typed parameter properties for a <c>partial class</c> from a checkpoint schema
/// (the JSON <c>statedict schema model.pth -o model.schema.json</c> writes), which must be in the project's
/// <c>AdditionalFiles</c>. Misspelt keys and wrong element types become build errors.
/// </summary>
/// <example>
/// <code>
/// // &lt;AdditionalFiles Include="digits_mlp.schema.json" /&gt; in the .csproj
/// [StateDictSchema("digits_mlp.schema.json")]
/// public partial class DigitsMlp;
///
/// using var w = DigitsMlp.Load("digits_mlp.pth");
/// TensorView&lt;float&gt; weight = w.Fc1.Weight;     // [128, 64]
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StateDictSchemaAttribute(string path) : Attribute
{
    /// <summary>The schema file, relative to the project directory (or a unique file name among AdditionalFiles).</summary>
    public string Path { get; } = path;
}

/// <summary>
/// Binds one <c>partial</c> <see cref="TensorView{T}"/> property to a checkpoint key (selective binding: only
/// the keys named this way are loaded). The key is checked against the schema at compile time.
/// </summary>
/// <example>
/// <code>
/// [StateDictSchema("gpt2.schema.json")]
/// public partial class Gpt2Embeddings
/// {
///     [TensorKey("transformer.wte.weight")] public partial TensorView&lt;float&gt; TokenEmbedding { get; }
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class TensorKeyAttribute(string key) : Attribute
{
    /// <summary>The flattened checkpoint key, e.g. <c>transformer.wte.weight</c>.</summary>
    public string Key { get; } = key;
}
