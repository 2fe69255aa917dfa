namespace StateDict;

/// <summary>
/// A config file (a Hugging Face <c>config.json</c> read by a <see cref="StateDictConfigAttribute"/> class) is not
/// valid JSON, or a field is missing or of another type than the config the class was generated from.
/// </summary>
/// <example>
/// <code>
/// try { var config = TinyConfig.Load("model/config.json"); }
/// catch (ConfigException e) { Console.Error.WriteLine(e.Message); }  // model/config.json: field 'n_embd' is missing
/// </code>
/// </example>
public sealed class ConfigException(string filePath, string field, string problem, Exception? inner = null)
    : CheckpointException(filePath, field.Length == 0 ? problem : $"field '{field}' {problem}", inner)
{
    /// <summary>The field's path (<c>rope_scaling.factor</c>, <c>layers[2].dim</c>); empty for the file as a whole.</summary>
    public string Field { get; } = field;
}
