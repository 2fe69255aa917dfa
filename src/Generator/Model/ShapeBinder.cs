using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using StateDict.Generator.Diagnostics;

namespace StateDict.Generator.Model
{
    /// <summary>
    /// Checks a class's bound properties against its schema, expanding [Module] and [ModuleList] properties into
    /// every key of every item (a module class used under two prefixes is checked under both), and gathers the
    /// schema entries a load must find (required) or may find (the own keys of Fallback properties).
    /// </summary>
    internal sealed class ShapeBinder
    {
        private readonly SchemaFile _schema;
        private readonly Dictionary<string, SchemaTensor> _byKey;
        private readonly Dictionary<string, ModuleType> _modules;
        private readonly List<DiagnosticInfo> _diagnostics;
        private readonly List<SchemaEntrySpec> _required = new List<SchemaEntrySpec>();
        private readonly List<SchemaEntrySpec> _optional = new List<SchemaEntrySpec>();
        private readonly HashSet<string> _requiredKeys = new HashSet<string>();
        private readonly HashSet<string> _bound = new HashSet<string>();
        private readonly List<string> _open = new List<string>();

        public ShapeBinder(SchemaFile schema, IEnumerable<ModuleType> modules, List<DiagnosticInfo> diagnostics)
        {
            _schema = schema;
            _byKey = schema.Tensors.ToDictionary(t => t.Key, System.StringComparer.Ordinal);
            _modules = modules.ToDictionary(m => m.FullName);
            _diagnostics = diagnostics;
        }

        /// <summary>The entries a load must find, in binding order, each once.</summary>
        public EquatableArray<SchemaEntrySpec> Required => _required.ToEquatableArray();

        /// <summary>The entries a load may find (a key some property falls back from), unless also required.</summary>
        public EquatableArray<SchemaEntrySpec> Optional => _optional.Where(e => !_requiredKeys.Contains(e.Key)).GroupBy(e => e.Key).Select(g => g.First()).ToEquatableArray();

        /// <summary>Binds one property of the schema class; a property with a problem is implemented as a throwing getter.</summary>
        public BoundPropertySpec BindRoot(BoundProperty property)
        {
            string? problem = Bind(property, "", "", "");
            string type = property.ElementType!;
            if (problem != null)
            {
                return new BoundPropertySpec(property.Name, property.Key, property.Modifiers, type, "Not bound: " + Identifiers.Xml(problem) + ".", problem)
                {
                    Kind = property.Kind,
                    TensorKind = property.TensorKind,
                };
            }
            string key = Identifiers.Xml(property.Key);
            string doc;
            bool convert = false;
            if (property.Kind == PropertyKind.Tensor)
            {
                var tensor = _byKey.TryGetValue(property.Key, out var own) ? own : _byKey[property.Fallback!];
                convert = tensor.Kind == TensorKind.Dense && DTypes.ElementType(tensor.DType) != type;
                doc = TensorKinds.Doc(key, tensor, $"[{string.Join(", ", tensor.Shape)}]")
                    + (property.Chunks > 0 ? $", chunk {property.Chunk} of {property.Chunks} along dimension 0" : "")
                    + (property.Fallback is null ? "" : $"; <c>{Identifiers.Xml(property.Fallback)}</c> when the checkpoint has no <c>{key}</c>")
                    + (convert ? ", converted on load." : ".");
            }
            else
            {
                doc = property.Kind == PropertyKind.Module
                    ? $"Module <c>{key}</c>."
                    : $"The items <c>{key}.0</c>, <c>{key}.1</c>, … in index order.";
            }
            return new BoundPropertySpec(property.Name, property.Key, property.Modifiers, type, doc, null)
            {
                Kind = property.Kind,
                TensorKind = property.TensorKind,
                Convert = convert,
                Fallback = property.Fallback,
                Chunk = property.Chunk,
                Chunks = property.Chunks,
            };
        }

        /// <summary>Checks a property under <paramref name="prefix"/>; returns the first problem's message, or null.</summary>
        private string? Bind(BoundProperty property, string prefix, string ownerPath, string context)
        {
            if (property.ElementType is null)
            {
                return null; // SD0015/SD0037 is reported by the declaring class; the property is not implemented.
            }
            string path = ownerPath.Length == 0 ? property.Name : ownerPath + "." + property.Name;
            if (property.Kind == PropertyKind.Tensor)
            {
                return BindTensor(property, prefix, context);
            }
            string? problem = CheckModule(property, path, out var module);
            if (problem != null)
            {
                return problem;
            }
            return property.Kind == PropertyKind.Module
                ? BindMembers(module, prefix + property.Key + ".", path, "in " + path)
                : BindList(property, module, prefix, path);
        }

        private string? BindTensor(BoundProperty property, string prefix, string context)
        {
            string full = prefix + property.Key;
            _byKey.TryGetValue(full, out var tensor);
            SchemaTensor? fallback = null;
            if (property.Fallback != null)
            {
                string fallbackKey = prefix + property.Fallback;
                if (!_byKey.TryGetValue(fallbackKey, out fallback))
                {
                    return Report(Descriptors.FallbackMissing, property.FallbackLocation, fallbackKey, full, _schema.FileName, Context(context) + Guess(fallbackKey, prefix));
                }
                if (tensor != null && (tensor.DType != fallback.DType || !tensor.Shape.Equals(fallback.Shape)))
                {
                    return Report(Descriptors.FallbackDiffers, property.FallbackLocation, fallbackKey, fallback.DType, Shape(fallback), full, tensor.DType, Shape(tensor));
                }
            }
            var bound = tensor ?? fallback;
            if (bound is null)
            {
                return Report(Descriptors.UnknownTensorKey, property.KeyLocation, full, _schema.FileName, Context(context) + (ComponentHint(full) ?? Guess(full, prefix)));
            }
            if (KindProblem(property, bound) is { } kindProblem)
            {
                return kindProblem;
            }
            if (bound.Kind == TensorKind.Dense && !DTypes.CanBind(bound.DType, property.ElementType!))
            {
                return Report(Descriptors.ElementTypeMismatch, property.TypeLocation, bound.Key, bound.DType, DTypes.ShortElementType(bound.DType), property.DisplayType);
            }
            if (property.Chunks != 0 || property.Chunk != 0)
            {
                if (property.Chunks < 1 || property.Chunk < 0 || property.Chunk >= property.Chunks)
                {
                    return Report(Descriptors.ChunkOutOfRange, property.Chunks < 1 ? property.ChunksLocation : property.ChunkLocation,
                        Number(property.Chunk), Number(property.Chunks), full);
                }
                if (bound.Shape.Count == 0 || bound.Shape[0] % property.Chunks != 0)
                {
                    return Report(Descriptors.ChunkDoesNotDivide, property.ChunksLocation, bound.Key, Shape(bound), Number(property.Chunks));
                }
            }
            if (!_bound.Add(full + "#" + (property.Chunks > 0 ? Number(property.Chunk) : "all")))
            {
                return Report(Descriptors.DuplicateTensorKey, property.KeyLocation, full);
            }
            Require(fallback ?? tensor!);
            if (fallback != null)
            {
                _optional.Add(new SchemaEntrySpec(full, DTypes.Member(bound.DType), bound.Shape));
            }
            return null;
        }

        private string? BindList(BoundProperty property, ModuleType module, string prefix, string path)
        {
            string list = prefix + property.Key;
            string start = list + ".";
            var indices = new SortedSet<int>();
            foreach (string key in _byKey.Keys.Where(k => k.StartsWith(start, System.StringComparison.Ordinal)))
            {
                int dot = key.IndexOf('.', start.Length);
                string segment = dot < 0 ? "" : key.Substring(start.Length, dot - start.Length);
                if (Identifiers.IsIndex(segment))
                {
                    indices.Add(int.Parse(segment, CultureInfo.InvariantCulture));
                }
            }
            if (indices.Count == 0)
            {
                var lists = _byKey.Keys.Select(k => k.IndexOf(".0.", System.StringComparison.Ordinal) is int i && i > 0 ? k.Substring(0, i) : null)
                    .Where(k => k != null).Select(k => k!).Distinct();
                return Report(Descriptors.ModuleListEmpty, property.KeyLocation, list, _schema.FileName, Guess(list, lists));
            }
            if (indices.Max != indices.Count - 1)
            {
                var missing = Enumerable.Range(0, indices.Max + 1).Where(i => !indices.Contains(i)).Select(Number).ToList();
                return Report(Descriptors.ModuleListGaps, property.KeyLocation, list, string.Join(", ", indices.Select(Number)), _schema.FileName,
                    string.Join(", ", missing.Take(10)) + (missing.Count > 10 ? ", …" : ""));
            }
            string? first = null;
            foreach (int i in indices)
            {
                string index = Number(i);
                first ??= BindMembers(module, start + index + ".", $"{path}[{index}]", $"item {index} of {path}");
            }
            return first;
        }

        private string? BindMembers(ModuleType module, string prefix, string path, string context)
        {
            _open.Add(module.FullName);
            string? first = null;
            foreach (var member in module.Properties)
            {
                first ??= Bind(member, prefix, path, context);
            }
            _open.RemoveAt(_open.Count - 1);
            return first;
        }

        /// <summary>The problem with the module class of a [Module]/[ModuleList] property (reported), or null.</summary>
        private string? CheckModule(BoundProperty property, string path, out ModuleType module)
        {
            module = _modules[property.ElementType!];
            if (module.Problem != null)
            {
                return Report(Descriptors.BadModuleType, property.KeyLocation, module.Name, module.Problem);
            }
            return _open.Contains(module.FullName)
                ? Report(Descriptors.BadModuleType, property.KeyLocation, module.Name, $"it contains itself (through {path})")
                : null;
        }

        private void Require(SchemaTensor tensor)
        {
            if (_requiredKeys.Add(tensor.Key))
            {
                _required.Add(TensorKinds.Entry(tensor));
            }
        }

        /// <summary>
        /// SD0052 when the property's type is not the one of the tensor's kind (a sparse tensor binds exactly its values'
        /// element type); SD0053 for Chunk or Fallback on anything but a dense tensor. Null when the kinds fit.
        /// </summary>
        private string? KindProblem(BoundProperty property, SchemaTensor bound)
        {
            bool exact = bound.Kind != TensorKind.Sparse || DTypes.ElementType(bound.DType) == property.ElementType;
            if (property.TensorKind != bound.Kind || !exact)
            {
                return Report(Descriptors.TensorKindMismatch, property.TypeLocation, bound.Key, TensorKinds.Describe(bound), TensorKinds.ShortPropertyType(bound), property.DisplayType);
            }
            if (bound.Kind == TensorKind.Dense)
            {
                return null;
            }
            if (property.Fallback != null)
            {
                return Report(Descriptors.KindOption, property.FallbackLocation, "Fallback", bound.Key, TensorKinds.Describe(bound));
            }
            return property.Chunks != 0 || property.Chunk != 0
                ? Report(Descriptors.KindOption, property.ChunksLocation ?? property.ChunkLocation, "Chunk", bound.Key, TensorKinds.Describe(bound))
                : null;
        }

        /// <summary>For a sparse tensor's component key (<c>adj.values</c>): which tensor to bind instead; else null.</summary>
        private string? ComponentHint(string key)
        {
            int dot = key.LastIndexOf('.');
            if (dot < 0 || !_byKey.TryGetValue(key.Substring(0, dot), out var owner) || owner.Kind != TensorKind.Sparse
                || !TensorKinds.Components(owner.Layout!).Contains(key.Substring(dot + 1)))
            {
                return null;
            }
            return $"; it is a component of the {owner.Layout} tensor '{owner.Key}': bind '{owner.Key}' as {TensorKinds.ShortPropertyType(owner)}";
        }

        private string Report(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
        {
            _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
            return string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat.ToString(CultureInfo.InvariantCulture), arguments);
        }

        private static string Context(string context) => context.Length == 0 ? "" : $" ({context})";

        /// <summary>The closest key under the same module prefix (the item's own keys first), else the closest of all.</summary>
        private string Guess(string key, string prefix)
        {
            string? guess = prefix.Length == 0 ? null : KeySuggestions.Closest(key, _byKey.Keys.Where(k => k.StartsWith(prefix, System.StringComparison.Ordinal)));
            return guess is null ? Guess(key, _byKey.Keys) : $"; did you mean '{guess}'?";
        }

        private static string Guess(string key, IEnumerable<string> candidates)
        {
            string? guess = KeySuggestions.Closest(key, candidates);
            return guess is null ? "" : $"; did you mean '{guess}'?";
        }

        private static string Shape(SchemaTensor tensor) => string.Join(", ", tensor.Shape);

        private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
