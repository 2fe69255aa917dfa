using StateDict.Generator.Model;

namespace StateDict.Generator.Config
{
    /// <summary>What a JSON value of the sample config says about the field's C# type.</summary>
    internal enum ConfigKind
    {
        /// <summary>Only <c>null</c> (or the items of an empty array) seen: read as raw JSON.</summary>
        Unknown,
        Int,
        Long,
        Double,
        Bool,
        String,
        Object,
        Array,

        /// <summary>An object whose keys are all integers (<c>id2label</c>), or an empty object.</summary>
        Dictionary,

        /// <summary>Values of different kinds (<c>[1, "a"]</c>): read as raw JSON.</summary>
        Mixed,
    }

    /// <summary>
    /// A field's inferred type. <see cref="Element"/> is an array's item or a dictionary's value; <see cref="Fields"/> an
    /// object's members in file order. <see cref="Nullable"/>: the value may be <c>null</c> or (for a member) missing.
    /// </summary>
    internal sealed record ConfigType(ConfigKind Kind, bool Nullable, ConfigType? Element, EquatableArray<ConfigField> Fields)
    {
        public static ConfigType Of(ConfigKind kind) => new ConfigType(kind, false, null, EquatableArray<ConfigField>.Empty);
    }

    /// <summary>A member of a config object: its key, type, first sample value (for the docs) and where the key is.</summary>
    internal sealed record ConfigField(string Key, ConfigType Type, string? Sample, LocationInfo KeyLocation);

    /// <summary>A parsed config file: the root object's type (null when it is not one) and what was wrong with it.</summary>
    internal sealed record ConfigFile(string Path, ConfigType? Root, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public string FileName => System.IO.Path.GetFileName(Path);
    }

    /// <summary>What <c>[StateDictConfig("…")]</c> on one class asks for, as plain data.</summary>
    internal sealed record ConfigTarget(
        string Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string ClassName,
        string FullName,
        string ConfigPath,
        LocationInfo? PathLocation,
        EquatableArray<string> UserMemberNames,
        EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>A C# type to emit for a config value, and how to read it: a primitive, a list, a dictionary, raw JSON or a nested class.</summary>
    internal sealed record ConfigTypeRef(ConfigKind Kind, bool Nullable, string? ClassName, ConfigTypeRef? Element);

    /// <summary>One generated property: its name, JSON key, type and doc.</summary>
    internal sealed record ConfigPropertySpec(string Name, string Key, ConfigTypeRef Type, string Doc);

    /// <summary>A generated class (the user's, or a nested object's) with its properties and nested classes.</summary>
    internal sealed record ConfigClassSpec(string Name, string Doc, EquatableArray<ConfigPropertySpec> Properties, EquatableArray<ConfigClassSpec> Nested);

    /// <summary>Everything the emitter needs for one config class (no locations: layout edits leave it equal).</summary>
    internal sealed record ConfigSpec(
        string Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string HintName,
        string FileName,
        ConfigClassSpec Root);

    /// <summary>The outcome for one target: the spec to emit (null on errors) and the diagnostics.</summary>
    internal sealed record ConfigResolution(ConfigSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
}
