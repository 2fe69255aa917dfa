using System.ComponentModel;

namespace StateDict;

/// <summary>
/// Matches a checkpoint against a generated class's schema, the way <c>load_state_dict</c> does, and hands the
/// generated code its tensors. Every problem (missing, unexpected, dtype, shape) is gathered into one exception.
/// </summary>
/// <remarks>Called by generated code; you normally use the generated <c>Load</c> and <c>From</c> instead.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SchemaBinder
{
    private static readonly string[] Wrappers =
        ["", "module.", "_orig_mod.", "model.", "state_dict.", "model_state_dict.", "model.module.", "module._orig_mod.", "_orig_mod.module."];

    /// <summary>Checks <paramref name="checkpoint"/> against <paramref name="schema"/> and returns the binding.</summary>
    /// <param name="checkpoint">The open checkpoint.</param>
    /// <param name="schema">The keys, dtypes and shapes the class expects.</param>
    /// <param name="options">Prefix, strictness and detection options.</param>
    /// <param name="typeName">The generated class, for messages.</param>
    /// <param name="selective">True for classes that bind only their <see cref="TensorKeyAttribute"/> properties: other keys are expected.</param>
    /// <param name="rules">Keys that may be absent (fallbacks) and globs of keys a strict load lets through.</param>
    /// <exception cref="CheckpointSchemaMismatchException">The checkpoint does not match.</exception>
    public static SchemaBinding Bind(Checkpoint checkpoint, IReadOnlyList<SchemaEntry> schema, LoadOptions? options, string typeName, bool selective = false, BindingRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(schema);
        options ??= new LoadOptions();
        rules ??= BindingRules.None;
        var (prefix, detected) = ChoosePrefix(checkpoint, schema, options);
        var expected = new HashSet<string>(schema.Select(e => e.Key), StringComparer.Ordinal);
        // Components of sparse and quantized tensors are bound with their tensor: they count under its key.
        var below = SchemaEntryCheck.FileKeys(checkpoint, k => k.StartsWith(prefix, StringComparison.Ordinal) && expected.Contains(k[prefix.Length..]))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !expected.Contains(k[prefix.Length..]) && !rules.IsOptional(k[prefix.Length..]))
            .Select(k => k[prefix.Length..])
            .ToList();
        var unexpected = below.Where(k => !rules.IsIgnored(k, prefix + k)).ToList();

        var problems = new List<string>();
        foreach (var entry in schema.Concat(rules.Optional))
        {
            var found = SchemaEntryCheck.InFile(checkpoint, prefix + entry.Key);
            if (found is null)
            {
                if (rules.IsOptional(entry.Key))
                {
                    continue;
                }
                string? guess = KeySuggestions.Closest(entry.Key, unexpected.Count > 0 ? unexpected : checkpoint.Tensors.Keys);
                problems.Add($"missing key '{prefix}{entry.Key}'{(guess is null ? "" : $" (did you mean '{guess}'?)")}");
            }
            else if (SchemaEntryCheck.Mismatch(found, entry) is { } mismatch)
            {
                problems.Add(mismatch);
            }
        }
        bool strict = options.Strict && !selective;
        if (strict)
        {
            problems.AddRange(unexpected.Select(k => $"unexpected key '{prefix}{k}' (not in the schema; pass LoadOptions {{ Strict = false }} to ignore it)"));
        }
        if (problems.Count > 0)
        {
            throw new CheckpointSchemaMismatchException(checkpoint.Path,
                $"does not match {typeName}'s schema ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}{(prefix.Length > 0 ? $", keys under '{prefix}'" : "")}):" +
                string.Concat(problems.Select(p => Environment.NewLine + "  " + p)),
                problems);
        }
        var report = new BindingReport(prefix, detected, (strict ? below.Except(unexpected) : below).Select(k => prefix + k).ToList()) { Warnings = checkpoint.Warnings };
        return new SchemaBinding(checkpoint, prefix, expected, report);
    }

    /// <summary>The explicit prefix, or the wrapper under which most schema keys are found.</summary>
    private static (string Prefix, bool Detected) ChoosePrefix(Checkpoint checkpoint, IReadOnlyList<SchemaEntry> schema, LoadOptions options)
    {
        string strip = options.StripPrefix ?? "";
        IEnumerable<string> candidates = !string.IsNullOrEmpty(options.Prefix)
            ? [options.Prefix + strip, options.Prefix]
            : options.DetectPrefix ? Wrappers.SelectMany(w => new[] { w + strip, w }) : [strip, ""];
        string best = "";
        int bestCount = -1;
        foreach (var candidate in candidates.Distinct())
        {
            int count = schema.Count(e => SchemaEntryCheck.Has(checkpoint, candidate + e.Key));
            if (count > bestCount)
            {
                (best, bestCount) = (candidate, count);
            }
        }
        bool detected = string.IsNullOrEmpty(options.Prefix) && options.DetectPrefix && best.Length > 0 && best != strip;
        return (best, detected);
    }
}

/// <summary>A checkpoint matched to a schema: generated code reads its tensors through this.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed partial class SchemaBinding
{
    private readonly Checkpoint _checkpoint;
    private readonly string _prefix;
    private readonly HashSet<string> _keys;
    private readonly HashSet<string> _modules = new(StringComparer.Ordinal);

    internal SchemaBinding(Checkpoint checkpoint, string prefix, HashSet<string> keys, BindingReport report)
    {
        _checkpoint = checkpoint;
        _prefix = prefix;
        _keys = keys;
        Report = report;
        foreach (string key in keys)
        {
            for (int dot = key.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = key.IndexOf('.', dot + 1))
            {
                _modules.Add(key[..(dot + 1)]);
            }
        }
    }

    /// <summary>What binding found.</summary>
    public BindingReport Report { get; }

    /// <summary>Reads the tensor the schema calls <paramref name="key"/>.</summary>
    public TensorView<T> Get<T>(string key) where T : unmanaged => _checkpoint.Read<T>(_prefix + key);

    /// <summary>
    /// Writes the schema's tensors, under the schema's keys (without any prefix the file had), as a <c>.pth</c> that
    /// PyTorch loads, or as <c>.safetensors</c> (by the extension or <see cref="SaveOptions"/>). Sparse, quantized and
    /// meta tensors are written as themselves (to <c>.pth</c> only).
    /// </summary>
    public void Save(IReadOnlyList<SchemaEntry> schema, string path, SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var writer = new StateDictWriter();
        foreach (var entry in schema)
        {
            writer.AddFrom(_checkpoint, _prefix + entry.Key, entry.Key);
        }
        writer.Save(path, options);
    }

    /// <summary>True when the schema has the tensor <paramref name="key"/>.</summary>
    public bool Has(string key) => _keys.Contains(key);

    /// <summary>True when the schema has a key under the module path <paramref name="modulePrefix"/> (ending in a dot).</summary>
    public bool HasModule(string modulePrefix) => _modules.Contains(modulePrefix);

    /// <summary>The items <c>prefix0.</c>, <c>prefix1.</c>, … of a module list, in index order.</summary>
    public IReadOnlyList<TItem> List<TItem>(string modulePrefix, Func<string, TItem> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        var items = new List<TItem>();
        for (int i = 0; HasModule(Item(modulePrefix, i) + "."); i++)
        {
            items.Add(create(Item(modulePrefix, i) + "."));
        }
        return items;
    }

    /// <summary>The tensors <c>prefix0</c>, <c>prefix1</c>, … of a parameter list, in index order.</summary>
    public IReadOnlyList<TensorView<T>> TensorList<T>(string modulePrefix) where T : unmanaged
    {
        var items = new List<TensorView<T>>();
        for (int i = 0; Has(Item(modulePrefix, i)); i++)
        {
            items.Add(Get<T>(Item(modulePrefix, i)));
        }
        return items;
    }

    private static string Item(string modulePrefix, int index) =>
        modulePrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
