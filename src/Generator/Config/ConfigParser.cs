using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;
using StateDict.Generator.Parsing;

namespace StateDict.Generator.Config
{
    /// <summary>
    /// Reads a sample config (a Hugging Face <c>config.json</c>) and infers each field's type: integers are int (long
    /// beyond int, double beyond long), other numbers double, arrays one item type unified over their items (ints and
    /// doubles give double), objects nested classes (or dictionaries when every key is an integer), null nullable.
    /// </summary>
    internal sealed class ConfigParser
    {
        private static readonly char[] FractionOrExponent = { '.', 'e', 'E' };

        private readonly string _path;
        private readonly SourceText _text;
        private readonly CancellationToken _cancellationToken;
        private readonly List<DiagnosticInfo> _diagnostics = new List<DiagnosticInfo>();

        private ConfigParser(string path, SourceText text, CancellationToken cancellationToken)
        {
            _path = path;
            _text = text;
            _cancellationToken = cancellationToken;
        }

        public static ConfigFile Parse(string path, SourceText? text, CancellationToken cancellationToken)
        {
            string fileName = System.IO.Path.GetFileName(path);
            if (text is null)
            {
                return new ConfigFile(path, null, Single(Descriptors.ConfigNotAnObject, null, fileName, "the file could not be read"));
            }
            JsonNode root;
            try
            {
                root = JsonReader.Parse(text.ToString());
            }
            catch (JsonSyntaxException e)
            {
                return new ConfigFile(path, null, new EquatableArray<DiagnosticInfo>(new[] { e.ToDiagnostic(Descriptors.MalformedConfig, path, text) }));
            }
            if (!(root is JsonObject rootObject) || rootObject.Properties.Count == 0 || IsDictionary(rootObject))
            {
                return new ConfigFile(path, null, Single(Descriptors.ConfigNotAnObject, LocationInfo.In(path, text, root.Start, root.Length), fileName,
                    "the top level must be an object with named fields, e.g. {\"n_embd\": 64}"));
            }
            var parser = new ConfigParser(path, text, cancellationToken);
            var type = parser.Infer(rootObject, "");
            return new ConfigFile(path, type, parser._diagnostics.ToEquatableArray());
        }

        private ConfigType Infer(JsonNode node, string fieldPath)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            switch (node)
            {
                case JsonLiteral literal:
                    return literal.Text == "null" ? ConfigType.Of(ConfigKind.Unknown) with { Nullable = true } : ConfigType.Of(ConfigKind.Bool);
                case JsonString _:
                    return ConfigType.Of(ConfigKind.String);
                case JsonNumber number:
                    return ConfigType.Of(NumberKind(number.Text));
                case JsonArray array:
                    return ConfigType.Of(ConfigKind.Array) with { Element = Unify(array.Items.Select(item => Infer(item, fieldPath + "[]")), array, fieldPath) };
                case JsonObject obj when obj.Properties.Count == 0 || IsDictionary(obj):
                    return ConfigType.Of(ConfigKind.Dictionary) with
                    {
                        Element = Unify(obj.Properties.Select(p => Infer(p.Value, fieldPath + "[]")), obj, fieldPath),
                    };
                case JsonObject obj:
                    return InferObject(obj, fieldPath);
                default:
                    return ConfigType.Of(ConfigKind.Mixed);
            }
        }

        private ConfigType InferObject(JsonObject obj, string fieldPath)
        {
            var fields = new List<ConfigField>();
            var seen = new HashSet<string>();
            foreach (var property in obj.Properties)
            {
                var keyAt = LocationInfo.In(_path, _text, property.NameStart, property.NameEnd - property.NameStart);
                string path = fieldPath.Length == 0 ? property.Name : fieldPath + "." + property.Name;
                if (!seen.Add(property.Name))
                {
                    _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConfigNotAnObject, keyAt, System.IO.Path.GetFileName(_path),
                        $"the key '{path}' appears more than once"));
                    continue;
                }
                fields.Add(new ConfigField(property.Name, Infer(property.Value, path), Sample(property.Value), keyAt));
            }
            return ConfigType.Of(ConfigKind.Object) with { Fields = fields.ToEquatableArray() };
        }

        /// <summary>One type for every item of an array (or value of a dictionary); a mix that has none is reported and read as raw JSON.</summary>
        private ConfigType Unify(IEnumerable<ConfigType> items, JsonNode container, string fieldPath)
        {
            var conflicts = new List<string>();
            var type = items.Aggregate(ConfigType.Of(ConfigKind.Unknown), (a, b) => ConfigTypes.Unify(a, b, conflicts));
            if (conflicts.Count > 0)
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConfigMixedTypes, LocationInfo.In(_path, _text, container.Start, 1),
                    fieldPath.Length == 0 ? "(top level)" : fieldPath, conflicts[0]));
            }
            return type;
        }

        /// <summary>An object such as id2label, {"0": "cat", "1": "dog"}: its keys are data, not names.</summary>
        private static bool IsDictionary(JsonObject obj) =>
            obj.Properties.Count > 0 && obj.Properties.All(p => p.Name.Length > 0 && p.Name.All(c => c >= '0' && c <= '9'));

        private static ConfigKind NumberKind(string text)
        {
            if (text.IndexOfAny(FractionOrExponent) >= 0)
            {
                return ConfigKind.Double;
            }
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                return ConfigKind.Int;
            }
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? ConfigKind.Long : ConfigKind.Double;
        }

        /// <summary>A short rendering of a scalar sample value for the property's doc; none for arrays and objects.</summary>
        private static string? Sample(JsonNode node)
        {
            string? text = node switch
            {
                JsonString s => "\"" + s.Value + "\"",
                JsonNumber n => n.Text,
                JsonLiteral l => l.Text,
                _ => null,
            };
            return text != null && text.Length > 40 ? text.Substring(0, 37) + "..." : text;
        }

        private static EquatableArray<DiagnosticInfo> Single(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? at, params string[] arguments) =>
            new EquatableArray<DiagnosticInfo>(new[] { DiagnosticInfo.Create(descriptor, at, arguments) });
    }
}
