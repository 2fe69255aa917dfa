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

    /// <summary>
    /// The element type every floating tensor the generator types itself becomes (<c>float</c>, <c>double</c>,
    /// <see cref="System.Half"/> or <see cref="BFloat16"/>), converted on load like <c>tensor.to(dtype)</c>.
    /// Null keeps each tensor's own element type.
    /// </summary>
    public Type? ConvertTo { get; set; }

    /// <summary>
    /// Globs (<c>*</c> matches any run of characters, dots included; <c>?</c> one character) of checkpoint keys a
    /// strict load lets through unbound, e.g. <c>*.rotary_emb.inv_freq</c>. Giving it makes a class of
    /// <see cref="TensorKeyAttribute"/> properties strict too: every other key must be bound.
    /// </summary>
    public string[]? Ignore { get; set; }
}

/// <summary>
/// Binds one <c>partial</c> <see cref="TensorView{T}"/> property to a checkpoint key (selective binding: only
/// the keys named this way are loaded). The key is checked against the schema at compile time. In a
/// <see cref="StateDictModuleAttribute"/> class the key is relative to the module's prefix.
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

    /// <summary>With <see cref="Chunks"/>: which piece of <c>torch.chunk(tensor, Chunks, dim=0)</c> this property is (0-based).</summary>
    public int Chunk { get; set; }

    /// <summary>Splits the tensor into this many equal pieces along dimension 0 (a fused QKV projection: 3); 0 binds it whole.</summary>
    public int Chunks { get; set; }

    /// <summary>A key read when <see cref="Key"/> is absent from the checkpoint (tied weights: <c>lm_head.weight</c> → the embeddings).</summary>
    public string? Fallback { get; set; }
}

/// <summary>Binds a property of a <see cref="StateDictModuleAttribute"/> class type to the keys under a prefix (<c>model.norm.</c>).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ModuleAttribute(string prefix) : Attribute
{
    /// <summary>The module path, without the trailing dot, e.g. <c>model.norm</c>.</summary>
    public string Prefix { get; } = prefix;
}

/// <summary>
/// Binds an <c>IReadOnlyList&lt;TModule&gt;</c> property to the numbered modules <c>prefix.0.</c>, <c>prefix.1.</c>, …;
/// the item count comes from the schema at compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ModuleListAttribute(string prefix) : Attribute
{
    /// <summary>The list's module path, without the trailing dot, e.g. <c>model.layers</c>.</summary>
    public string Prefix { get; } = prefix;
}

/// <summary>
/// A <c>partial class</c> of your own shape whose <see cref="TensorKeyAttribute"/>, <see cref="ModuleAttribute"/>
/// and <see cref="ModuleListAttribute"/> keys are relative to wherever it is used; the classes that use it check
/// every key against their schema.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StateDictModuleAttribute : Attribute
{
}

/// <summary>
/// Generates typed, get-only PascalCase properties for every field of a JSON config (an AdditionalFile such as a
/// Hugging Face <c>config.json</c>; nested objects become nested classes, arrays <c>IReadOnlyList&lt;T&gt;</c>), plus
/// <c>Load(path)</c>, <c>Load(stream, name)</c> and <c>Parse(json, name)</c>, which throw <see cref="ConfigException"/>
/// naming the file and the field when a field is missing or of another type. docs/configs.md has the typing rules.
/// </summary>
/// <example>
/// <code>
/// // &lt;AdditionalFiles Include="model/config.json" /&gt; in the .csproj
/// [StateDictConfig("model/config.json")]
/// public partial class TinyConfig;
///
/// var config = TinyConfig.Load("model/config.json");
/// int width = config.NEmbd;                 // "n_embd": 64
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StateDictConfigAttribute(string path) : Attribute
{
    /// <summary>The sample config file, relative to the project directory (or the end of exactly one AdditionalFiles path).</summary>
    public string Path { get; } = path;
}
