using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using StateDict.Generator.Diagnostics;
using StateDict.Generator.Model;

namespace StateDict.Generator.Config
{
    /// <summary>
    /// Finds a target's config among the parsed AdditionalFiles (the attribute path against the project directory,
    /// else the one file whose path ends with it) and names its classes and properties.
    /// </summary>
    internal sealed class ConfigResolver
    {
        /// <summary>Names no property may take: object's members, and on the user's class what the generator adds.</summary>
        private static readonly string[] ObjectMembers = { "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize", "ReferenceEquals" };
        private static readonly string[] RootMembers = { "Load", "Parse" };

        private readonly string _fileName;
        private readonly List<DiagnosticInfo> _diagnostics;

        private ConfigResolver(string fileName, List<DiagnosticInfo> diagnostics)
        {
            _fileName = fileName;
            _diagnostics = diagnostics;
        }

        public static ConfigResolution Resolve(ConfigTarget target, ImmutableArray<ConfigFile> files, string projectDirectory)
        {
            var diagnostics = new List<DiagnosticInfo>(target.Diagnostics);
            var file = Find(target, files, projectDirectory, diagnostics);
            if (file != null)
            {
                diagnostics.AddRange(file.Diagnostics);
            }
            if (file?.Root is null || diagnostics.Any(d => Descriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error))
            {
                return new ConfigResolution(null, diagnostics.ToEquatableArray());
            }
            var resolver = new ConfigResolver(file.FileName, diagnostics);
            var root = resolver.BuildClass(target.ClassName, "", file.Root, RootMembers.Concat(target.UserMemberNames), "");
            string hint = Identifiers.HintName(target.FullName).Replace(".g.cs", ".Config.g.cs");
            return new ConfigResolution(new ConfigSpec(target.Namespace, target.ContainingTypes, hint, file.FileName, root), diagnostics.ToEquatableArray());
        }

        private ConfigClassSpec BuildClass(string name, string fieldPath, ConfigType type, IEnumerable<string> reserved, string doc)
        {
            var used = new HashSet<string>(ObjectMembers.Concat(reserved)) { name };
            var names = new List<string>();
            foreach (var field in type.Fields)
            {
                string wanted = Identifiers.Member(field.Key);
                string chosen = Unique(wanted, used);
                if (chosen != wanted)
                {
                    _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConfigRenamed, field.KeyLocation, Path(fieldPath, field.Key), chosen, wanted));
                }
                names.Add(chosen);
            }
            // Class names are chosen after every property name, so a nested class never takes a property's name.
            var properties = new List<ConfigPropertySpec>();
            var nested = new List<ConfigClassSpec>();
            for (int i = 0; i < names.Count; i++)
            {
                var field = type.Fields[i];
                string path = Path(fieldPath, field.Key);
                var typeRef = Reference(field.Type, names[i], "Section", path, used, nested);
                properties.Add(new ConfigPropertySpec(names[i], field.Key, typeRef, PropertyDoc(path, field)));
            }
            return new ConfigClassSpec(name, doc, properties.ToEquatableArray(), nested.ToEquatableArray());
        }

        /// <summary>The C# type of a value; an object inside it becomes a nested class named after the property.</summary>
        private ConfigTypeRef Reference(ConfigType type, string property, string suffix, string path, HashSet<string> used, List<ConfigClassSpec> nested)
        {
            switch (type.Kind)
            {
                case ConfigKind.Object:
                    string className = Unique(property + suffix, used);
                    nested.Add(BuildClass(className, path, type, Enumerable.Empty<string>(),
                        $"<c>{Identifiers.Xml(path)}</c> in <c>{Identifiers.Xml(_fileName)}</c>."));
                    return new ConfigTypeRef(ConfigKind.Object, type.Nullable, className, null);
                case ConfigKind.Array:
                    return new ConfigTypeRef(ConfigKind.Array, type.Nullable, null, Reference(type.Element!, property, "Item", path + "[]", used, nested));
                case ConfigKind.Dictionary:
                    return new ConfigTypeRef(ConfigKind.Dictionary, type.Nullable, null, Reference(type.Element!, property, "Value", path + "[]", used, nested));
                default:
                    return new ConfigTypeRef(type.Kind, type.Nullable, null, null);
            }
        }

        private string PropertyDoc(string path, ConfigField field)
        {
            string doc = $"<c>{Identifiers.Xml(path)}</c> in <c>{Identifiers.Xml(_fileName)}</c>";
            if (field.Sample != null && field.Sample != "null")
            {
                doc += $" (<c>{Identifiers.Xml(field.Sample)}</c> there)";
            }
            return doc + (field.Type.Nullable ? "; null when absent or null." : ".");
        }

        private static string Path(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

        private static string Unique(string name, HashSet<string> used)
        {
            string candidate = name;
            for (int n = 2; used.Contains(candidate); n++)
            {
                candidate = name + "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            used.Add(candidate);
            return candidate;
        }

        private static ConfigFile? Find(ConfigTarget target, ImmutableArray<ConfigFile> files, string projectDirectory, List<DiagnosticInfo> diagnostics)
        {
            string inProject = PathNames.InProject(target.ConfigPath, projectDirectory);
            var exact = files.FirstOrDefault(f => string.Equals(PathNames.Normalize(f.Path), inProject, StringComparison.OrdinalIgnoreCase));
            if (exact != null)
            {
                return exact;
            }
            string tail = PathNames.Normalize(target.ConfigPath);
            var byTail = files.Where(f => tail.Length > 0 && PathNames.EndsWith(PathNames.Normalize(f.Path), tail))
                .OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
            if (byTail.Count == 1)
            {
                return byTail[0];
            }
            if (byTail.Count > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConfigAmbiguous, target.PathLocation, target.ConfigPath, string.Join(", ", byTail.Select(f => f.Path))));
                return null;
            }
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConfigNotFound, target.PathLocation, target.ConfigPath,
                $"; add <AdditionalFiles Include=\"{target.ConfigPath}\" /> to the project"));
            return null;
        }

        /// <summary>Whether the pipeline should parse <paramref name="path"/>: its file name is that of a config some class names.</summary>
        public static bool IsWanted(string path, ImmutableArray<string> configFileNames)
        {
            string name = PathNames.FileName(path);
            return configFileNames.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        }
    }
}
