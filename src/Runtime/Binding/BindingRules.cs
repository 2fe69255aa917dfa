using System.ComponentModel;

namespace StateDict;

/// <summary>
/// What a generated class of your own shape adds to a schema check: keys that may be absent (the primary key of a
/// <see cref="TensorKeyAttribute.Fallback"/>, checked only when present) and <see cref="StateDictSchemaAttribute.Ignore"/>
/// globs of keys a strict load lets through unbound.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class BindingRules
{
    private readonly HashSet<string> _optional;

    /// <summary>Creates the rules (the form generated code uses).</summary>
    public BindingRules(IReadOnlyList<SchemaEntry> optional, IReadOnlyList<string> ignore)
    {
        ArgumentNullException.ThrowIfNull(optional);
        ArgumentNullException.ThrowIfNull(ignore);
        Optional = optional;
        Ignore = ignore;
        _optional = new HashSet<string>(optional.Select(e => e.Key), StringComparer.Ordinal);
    }

    /// <summary>No optional keys and nothing ignored.</summary>
    public static BindingRules None { get; } = new([], []);

    /// <summary>Keys that may be absent; when present they must have this dtype and shape.</summary>
    public IReadOnlyList<SchemaEntry> Optional { get; }

    /// <summary>Globs of keys a strict load lets through.</summary>
    public IReadOnlyList<string> Ignore { get; }

    /// <summary>True when <paramref name="key"/> is one of <see cref="Optional"/>.</summary>
    public bool IsOptional(string key) => _optional.Contains(key);

    /// <summary>True when an <see cref="Ignore"/> glob matches the key below the prefix or the whole key.</summary>
    public bool IsIgnored(string key, string fullKey) => Ignore.Any(glob => GlobMatches(glob, key) || GlobMatches(glob, fullKey));

    /// <summary>
    /// Matches <paramref name="text"/> against <paramref name="glob"/>: <c>*</c> is any run of characters (dots
    /// included), <c>?</c> any one character, everything else itself. Linear backtracking, no regex.
    /// </summary>
    public static bool GlobMatches(string glob, string text)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(text);
        int g = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (g < glob.Length && (glob[g] == '?' || glob[g] == text[t]))
            {
                g++;
                t++;
            }
            else if (g < glob.Length && glob[g] == '*')
            {
                star = g++;
                resume = t;
            }
            else if (star >= 0)
            {
                g = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (g < glob.Length && glob[g] == '*')
        {
            g++;
        }
        return g == glob.Length;
    }
}
