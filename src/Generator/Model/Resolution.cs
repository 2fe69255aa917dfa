using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using StateDict.Generator.Diagnostics;

namespace StateDict.Generator.Model
{
    /// <summary>The outcome for one target: the spec to emit (null when there are errors) and the diagnostics.</summary>
    internal sealed record Resolution(GenerationSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        private static readonly string[] RootMembers = { "Load", "LoadAsync", "From", "Schema", "Report", "Dispose", "OpenOptions", "Save", "__Own" };

        /// <summary>Finds the target's schema among the additional files, checks the binding, and builds the spec.</summary>
        public static Resolution Resolve(TargetSpec target, ImmutableArray<SchemaFile> schemas, string projectDirectory)
        {
            var diagnostics = new List<DiagnosticInfo>(target.Diagnostics);
            var schema = Find(target, schemas, projectDirectory, diagnostics);
            if (schema != null)
            {
                diagnostics.AddRange(schema.Diagnostics);
            }
            // Problems with one [TensorKey] property (SD0015) still let the others be implemented.
            if (schema is null || diagnostics.Any(d => d.Id != Descriptors.BadTensorKeyProperty.Id))
            {
                return new Resolution(null, diagnostics.ToEquatableArray());
            }

            string hint = Identifiers.HintName(target.FullName);
            if (target.Properties.Count > 0)
            {
                // Properties that fail to bind are still implemented (throwing), so the build shows our error, not CS9248 too.
                var bound = Bind(target, schema, diagnostics);
                var spec = new GenerationSpec(target.Namespace, target.ContainingTypes, target.ClassName, hint, schema.FileName,
                    bound.Where(b => b.Entry != null).Select(b => b.Entry!).ToEquatableArray(), null, bound.Select(b => b.Property).ToEquatableArray());
                return new Resolution(spec, diagnostics.ToEquatableArray());
            }

            var (root, renames) = ModuleTreeBuilder.Build(target.ClassName, schema.Tensors, RootMembers.Concat(target.UserMemberNames));
            diagnostics.AddRange(renames);
            var entries = schema.Tensors.Select(t => new SchemaEntrySpec(t.Key, DTypes.Member(t.DType), t.Shape)).ToEquatableArray();
            return new Resolution(
                new GenerationSpec(target.Namespace, target.ContainingTypes, target.ClassName, hint, schema.FileName, entries, root, EquatableArray<BoundPropertySpec>.Empty),
                diagnostics.ToEquatableArray());
        }

        private static SchemaFile? Find(TargetSpec target, ImmutableArray<SchemaFile> schemas, string projectDirectory, List<DiagnosticInfo> diagnostics)
        {
            string wanted = Normalize(IsRooted(target.SchemaPath) ? target.SchemaPath : projectDirectory + "/" + target.SchemaPath);
            var match = schemas.FirstOrDefault(s => string.Equals(Normalize(s.Path), wanted, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                // A checkpoint path ("weights/model.pth") names the schema a StateDictCheckpoint item extracts ("model.pth.schema.json").
                string name = FileName(target.SchemaPath);
                var byName = schemas.Where(s => string.Equals(FileName(s.Path), name, StringComparison.OrdinalIgnoreCase)
                    || string.Equals(FileName(s.Path), name + ".schema.json", StringComparison.OrdinalIgnoreCase)).ToList();
                match = byName.Count == 1 ? byName[0] : null;
            }
            if (match is null)
            {
                var candidates = schemas.Where(s => s.IsSchema).Select(s => FileName(s.Path)).OrderBy(n => n, StringComparer.Ordinal).ToList();
                bool checkpoint = !target.SchemaPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
                string hint = checkpoint ? $"; add <StateDictCheckpoint Include=\"{target.SchemaPath}\" /> to the project" : "";
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.SchemaNotFound, target.SchemaArgumentLocation, target.SchemaPath,
                    (candidates.Count == 0 ? " (no schema files are)" : "; schema files that are: " + string.Join(", ", candidates)) + hint));
            }
            return match;
        }

        private static List<(SchemaEntrySpec? Entry, BoundPropertySpec Property)> Bind(TargetSpec target, SchemaFile schema, List<DiagnosticInfo> diagnostics)
        {
            var byKey = schema.Tensors.ToDictionary(t => t.Key, StringComparer.Ordinal);
            var bound = new List<(SchemaEntrySpec?, BoundPropertySpec)>();
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in target.Properties)
            {
                if (property.ElementType is null)
                {
                    continue; // SD0015 already reported; such a declaration cannot be implemented.
                }
                string? problem = null;
                if (!byKey.TryGetValue(property.Key, out var tensor))
                {
                    string? guess = KeySuggestions.Closest(property.Key, byKey.Keys);
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnknownTensorKey, property.KeyLocation, property.Key, schema.FileName,
                        guess is null ? "" : $"; did you mean '{guess}'?"));
                    problem = $"the schema has no key '{property.Key}'";
                }
                else if (!keys.Add(property.Key))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.DuplicateTensorKey, property.KeyLocation, property.Key));
                    problem = $"'{property.Key}' is bound twice";
                }
                else if (property.ElementType != DTypes.ElementType(tensor.DType))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.ElementTypeMismatch, property.TypeLocation, property.Key, tensor.DType,
                        DTypes.ShortElementType(tensor.DType), property.DisplayType));
                    problem = $"'{property.Key}' is {tensor.DType}";
                }
                if (problem != null)
                {
                    bound.Add((null, new BoundPropertySpec(property.Name, property.Key, property.Modifiers, property.ElementType, "Not bound: " + Identifiers.Xml(problem) + ".", problem)));
                    continue;
                }
                string doc = $"<c>{Identifiers.Xml(tensor!.Key)}</c>: {tensor.DType} [{string.Join(", ", tensor.Shape)}].";
                bound.Add((new SchemaEntrySpec(tensor.Key, DTypes.Member(tensor.DType), tensor.Shape),
                    new BoundPropertySpec(property.Name, property.Key, property.Modifiers, property.ElementType, doc, null)));
            }
            return bound;
        }

        private static bool IsRooted(string path) => path.StartsWith("/", StringComparison.Ordinal) || (path.Length > 1 && path[1] == ':');

        private static string FileName(string path)
        {
            int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
            return path.Substring(slash + 1);
        }

        /// <summary>Pure string normalisation of a path: separators, "." and ".." segments (no file system access).</summary>
        private static string Normalize(string path)
        {
            var parts = new List<string>();
            foreach (var part in path.Replace('\\', '/').Split('/'))
            {
                if (part == "..")
                {
                    if (parts.Count > 0)
                    {
                        parts.RemoveAt(parts.Count - 1);
                    }
                }
                else if (part != "." && part.Length > 0)
                {
                    parts.Add(part);
                }
            }
            return string.Join("/", parts);
        }
    }
}
