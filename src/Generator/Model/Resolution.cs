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
                var binder = new ShapeBinder(schema, target.Modules, diagnostics);
                var bound = target.Properties.Where(p => p.ElementType != null).Select(binder.BindRoot).ToEquatableArray();
                var spec = new GenerationSpec(target.Namespace, target.ContainingTypes, target.ClassName, hint, schema.FileName, binder.Required, null, bound)
                {
                    Optional = binder.Optional,
                    Ignore = target.Ignore,
                    Complete = target.Ignore != null || target.Properties.Any(p => p.Kind != PropertyKind.Tensor),
                };
                return new Resolution(spec, diagnostics.ToEquatableArray());
            }

            var (tree, renames) = ModuleTreeBuilder.Build(target.ClassName, schema.Tensors, RootMembers.Concat(target.UserMemberNames));
            diagnostics.AddRange(renames);
            var root = tree;
            var entries = schema.Tensors.Select(t => TensorKinds.Entry(t)).ToEquatableArray();
            if (target.ConvertTo != null)
            {
                root = Convert(root, target.ConvertTo);
                diagnostics.AddRange(ConvertToSkips(schema, target.ConvertTo));
            }
            return new Resolution(
                new GenerationSpec(target.Namespace, target.ContainingTypes, target.ClassName, hint, schema.FileName, entries, root, EquatableArray<BoundPropertySpec>.Empty)
                {
                    Ignore = target.Ignore,
                },
                diagnostics.ToEquatableArray());
        }

        /// <summary>A [StateDictModule] class: implemented whatever the schemas say (the classes using it check its keys).</summary>
        public static (ModuleSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics) ResolveModule(ModuleTargetSpec target)
        {
            if (target.Diagnostics.Any(d => d.Id != Descriptors.BadTensorKeyProperty.Id && d.Id != Descriptors.BadModuleProperty.Id))
            {
                return (null, target.Diagnostics);
            }
            var properties = target.Properties.Where(p => p.ElementType != null).Select(p => new BoundPropertySpec(p.Name, p.Key, p.Modifiers, p.ElementType!,
                $"<c>{Identifiers.Xml(p.Key)}</c> below this module's prefix.", null)
            {
                Kind = p.Kind,
                TensorKind = p.TensorKind,
                Convert = true,
                Fallback = p.Fallback,
                Chunk = p.Chunk,
                Chunks = p.Chunks,
            });
            string hint = Identifiers.HintName(target.FullName).Replace(".g.cs", ".Module.g.cs");
            return (new ModuleSpec(target.Namespace, target.ContainingTypes, target.ClassName, hint, properties.ToEquatableArray()), target.Diagnostics);
        }

        /// <summary>ConvertTo: every floating tensor (and tensor list) of the generated tree is read as <paramref name="elementType"/>.</summary>
        private static ClassSpec Convert(ClassSpec spec, string elementType)
        {
            var members = spec.Members.Select(m =>
                (m.Kind == MemberKind.Tensor || m.Kind == MemberKind.TensorList) && m.TensorKind == TensorKind.Dense && DTypes.IsFloatingElement(m.Type) && m.Type != elementType
                    ? m with { Type = elementType, Convert = true, Doc = m.Doc.Substring(0, m.Doc.Length - 1) + ", converted on load." }
                    : m);
            return spec with
            {
                Members = members.ToEquatableArray(),
                Nested = spec.Nested.Select(n => Convert(n, elementType)).ToEquatableArray(),
            };
        }

        /// <summary>SD0051 for each quantized tensor, and each sparse one with floating values of another type, that ConvertTo leaves as it is.</summary>
        private static IEnumerable<DiagnosticInfo> ConvertToSkips(SchemaFile schema, string elementType) =>
            schema.Tensors
                .Where(t => t.Kind == TensorKind.Quantized
                    || (t.Kind == TensorKind.Sparse && DTypes.IsFloatingElement(DTypes.ElementType(t.DType)) && DTypes.ElementType(t.DType) != elementType))
                .Select(t => DiagnosticInfo.Create(Descriptors.ConvertToSkipsKind, t.KeyLocation, t.Key, TensorKinds.Describe(t),
                    TensorKinds.ShortPropertyType(t) + (t.Kind == TensorKind.Quantized ? " (Dequantize() gives float32)" : "")));

        private static SchemaFile? Find(TargetSpec target, ImmutableArray<SchemaFile> schemas, string projectDirectory, List<DiagnosticInfo> diagnostics)
        {
            string wanted = PathNames.InProject(target.SchemaPath, projectDirectory);
            var match = schemas.FirstOrDefault(s => string.Equals(PathNames.Normalize(s.Path), wanted, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                // A checkpoint path ("weights/model.pth") names the schema a StateDictCheckpoint item extracts ("model.pth.schema.json"),
                // a folder ("models/tiny/", with or without the slash) the schema named after the folder ("tiny.schema.json").
                string name = PathNames.FileName(target.SchemaPath);
                var byName = schemas.Where(s => string.Equals(PathNames.FileName(s.Path), name, StringComparison.OrdinalIgnoreCase)
                    || string.Equals(PathNames.FileName(s.Path), name + ".schema.json", StringComparison.OrdinalIgnoreCase)).ToList();
                match = byName.Count == 1 ? byName[0] : null;
            }
            if (match is null)
            {
                var candidates = schemas.Where(s => s.IsSchema).Select(s => PathNames.FileName(s.Path)).OrderBy(n => n, StringComparer.Ordinal).ToList();
                bool checkpoint = !target.SchemaPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
                string hint = checkpoint ? $"; add <StateDictCheckpoint Include=\"{target.SchemaPath}\" /> to the project" : "";
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.SchemaNotFound, target.SchemaArgumentLocation, target.SchemaPath,
                    (candidates.Count == 0 ? " (no schema files are)" : "; schema files that are: " + string.Join(", ", candidates)) + hint));
            }
            return match;
        }
    }
}
