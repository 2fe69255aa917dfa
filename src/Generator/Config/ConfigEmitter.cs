using Microsoft.CodeAnalysis.CSharp;
using StateDict.Generator.Emit;
using StateDict.Generator.Model;

namespace StateDict.Generator.Config
{
    /// <summary>Writes the C# for one <see cref="ConfigSpec"/>. Pure: the same spec always gives the same text.</summary>
    internal static class ConfigEmitter
    {
        private const string Value = "global::StateDict.ConfigValue";
        private const string GeneratedCode = "[global::System.CodeDom.Compiler.GeneratedCode(\"StateDict.Generator\", \"1.0.0\")]";

        public static string Emit(ConfigSpec spec)
        {
            var w = new SourceWriter();
            Emitter.OpenContainers(w, spec.Namespace, spec.ContainingTypes);
            w.Line(GeneratedCode);
            string name = Identifiers.Escape(spec.Root.Name);
            w.Open($"partial class {name}");
            string file = Identifiers.Xml(spec.FileName);
            string literal = SymbolDisplay.FormatLiteral(spec.FileName, quote: true);
            w.Line($"/// <summary>Reads the config file at <paramref name=\"path\"/>, which must have <c>{file}</c>'s fields with their types (other fields are ignored).</summary>");
            w.Line("/// <exception cref=\"global::StateDict.ConfigException\">The file is not JSON, or a field is missing or of another type; the message names the file and the field.</exception>");
            w.Line($"public static {name} Load(string path) => {Value}.Load(path, static value => new {name}(value));");
            w.Line();
            w.Line($"/// <summary>Reads a config like <c>{file}</c> from <paramref name=\"stream\"/>; <paramref name=\"name\"/> names it in error messages.</summary>");
            w.Line("/// <exception cref=\"global::StateDict.ConfigException\">The text is not JSON, or a field is missing or of another type.</exception>");
            w.Line($"public static {name} Load(global::System.IO.Stream stream, string name = {literal}) => {Value}.Load(stream, name, static value => new {name}(value));");
            w.Line();
            w.Line($"/// <summary>Parses config JSON text like <c>{file}</c>; <paramref name=\"name\"/> names it in error messages.</summary>");
            w.Line("/// <exception cref=\"global::StateDict.ConfigException\">The text is not JSON, or a field is missing or of another type.</exception>");
            w.Line($"public static {name} Parse(string json, string name = {literal}) => {Value}.Parse(json, name, static value => new {name}(value));");
            w.Line();
            WriteBody(w, spec.Root, "private");
            w.Close();
            Emitter.CloseContainers(w, spec.Namespace, spec.ContainingTypes);
            return w.ToString();
        }

        /// <summary>The constructor reading every property, the properties, and the nested classes.</summary>
        private static void WriteBody(SourceWriter w, ConfigClassSpec spec, string constructorAccess)
        {
            w.Open($"{constructorAccess} {Identifiers.Escape(spec.Name)}({Value} json)");
            w.Line("json.ExpectObject();");
            foreach (var property in spec.Properties)
            {
                string key = SymbolDisplay.FormatLiteral(property.Key, quote: true);
                w.Line(property.Type.Nullable
                    ? $"{property.Name} = {ReadOptional(property.Type, $"json.OptionalField({key})", 0)};"
                    : $"{property.Name} = {Read(property.Type, $"json.Field({key})", 0)};");
            }
            w.Close();
            foreach (var property in spec.Properties)
            {
                w.Line();
                w.Doc(property.Doc);
                w.Line($"public {TypeName(property.Type)} {property.Name} {{ get; }}");
            }
            foreach (var nested in spec.Nested)
            {
                w.Line();
                w.Doc(nested.Doc);
                w.Line(GeneratedCode);
                w.Open($"public sealed partial class {Identifiers.Escape(nested.Name)}");
                WriteBody(w, nested, "internal");
                w.Close();
            }
        }

        /// <summary>The C# type of a value.</summary>
        private static string TypeName(ConfigTypeRef type)
        {
            string name = type.Kind switch
            {
                ConfigKind.Int => "int",
                ConfigKind.Long => "long",
                ConfigKind.Double => "double",
                ConfigKind.Bool => "bool",
                ConfigKind.String => "string",
                ConfigKind.Object => Identifiers.Escape(type.ClassName!),
                ConfigKind.Array => $"global::System.Collections.Generic.IReadOnlyList<{TypeName(type.Element!)}>",
                ConfigKind.Dictionary => $"global::System.Collections.Generic.IReadOnlyDictionary<string, {TypeName(type.Element!)}>",
                _ => "global::System.Text.Json.JsonElement",
            };
            return type.Nullable ? name + "?" : name;
        }

        /// <summary>An expression reading a non-null <paramref name="value"/> (a ConfigValue) as <paramref name="type"/> without its nullability.</summary>
        private static string Read(ConfigTypeRef type, string value, int depth)
        {
            string item = "v" + depth.ToString(System.Globalization.CultureInfo.InvariantCulture);
            switch (type.Kind)
            {
                case ConfigKind.Object:
                    return $"new {Identifiers.Escape(type.ClassName!)}({value})";
                case ConfigKind.Array:
                    return $"{value}.AsList(static {item} => {ReadItem(type.Element!, item, depth + 1)})";
                case ConfigKind.Dictionary:
                    return $"{value}.AsDictionary(static {item} => {ReadItem(type.Element!, item, depth + 1)})";
                default:
                    return $"{value}.{Accessor(type.Kind)}()";
            }
        }

        private static string ReadItem(ConfigTypeRef type, string value, int depth) =>
            type.Nullable ? ReadOptional(type, value + ".OrNull()", depth) : Read(type, value, depth);

        /// <summary>An expression reading a nullable ConfigValue: null stays null.</summary>
        private static string ReadOptional(ConfigTypeRef type, string value, int depth)
        {
            if (type.Kind == ConfigKind.Object)
            {
                string item = "v" + depth.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return $"{value}?.As(static {item} => {Read(type, item, depth + 1)})";
            }
            // value?.AsList(...), value?.AsInt32(): the member access is lifted over null.
            return Read(type, value + "?", depth);
        }

        private static string Accessor(ConfigKind kind) => kind switch
        {
            ConfigKind.Int => "AsInt32",
            ConfigKind.Long => "AsInt64",
            ConfigKind.Double => "AsDouble",
            ConfigKind.Bool => "AsBoolean",
            ConfigKind.String => "AsString",
            _ => "AsJson",
        };
    }
}
