using System.Collections.Generic;
using System.Linq;
using StateDict.Generator.Diagnostics;

namespace StateDict.Generator.Model
{
    /// <summary>
    /// Turns schema keys into nested classes (DESIGN.md naming rules). A module whose children are all indices
    /// becomes an <c>IReadOnlyList</c> when the items merge into one structure (members some items lack are
    /// nullable); otherwise each index is its own <c>ItemN</c> property. Names that collide get a numbered
    /// suffix, in key order, and are reported (SD0020).
    /// </summary>
    internal sealed class ModuleTreeBuilder
    {
        private static readonly string[] ObjectMembers = { "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize", "ReferenceEquals" };
        private static readonly string[] IndexNames = { "i", "j", "k", "l", "m", "n" };

        private readonly List<DiagnosticInfo> _diagnostics = new List<DiagnosticInfo>();

        private ModuleTreeBuilder()
        {
        }

        /// <summary>Builds the root class; <paramref name="reserved"/> are names the root already uses.</summary>
        public static (ClassSpec Root, IReadOnlyList<DiagnosticInfo> Diagnostics) Build(string className, IEnumerable<SchemaTensor> tensors, IEnumerable<string> reserved)
        {
            var builder = new ModuleTreeBuilder();
            var root = builder.BuildClass(className, new[] { RawNode.Build(tensors) }, "", 0, reserved, "The checkpoint's top-level modules and tensors.")!;
            return (root, builder._diagnostics);
        }

        private ClassSpec? BuildClass(string typeName, IReadOnlyList<RawNode> instances, string pattern, int listDepth, IEnumerable<string> reserved, string doc)
        {
            var used = new HashSet<string>(ObjectMembers.Concat(reserved)) { typeName };
            var segments = new List<string>();
            var seen = new HashSet<string>();
            foreach (var child in instances.SelectMany(i => i.Children))
            {
                if (seen.Add(child.Segment))
                {
                    segments.Add(child.Segment);
                }
            }

            // Pass 1: kinds and member names (members first, so nested type names never steal a member's name).
            var plans = new List<(string Segment, string Name, List<RawNode> Children, bool Nullable)>();
            foreach (string segment in segments)
            {
                var children = instances.Select(i => i.Child(segment)).Where(c => c != null).Select(c => c!).ToList();
                if (children.Any(c => c.IsTensor) && !children.All(c => c.IsTensor))
                {
                    return null;
                }
                plans.Add((segment, Unique(Identifiers.Member(segment), used, children[0], segment), children, children.Count < instances.Count));
            }

            // Pass 2: members, with nested classes named after them.
            var members = new List<MemberSpec>();
            var nested = new List<ClassSpec>();
            foreach (var (segment, name, children, nullable) in plans)
            {
                string keyPattern = pattern + segment;
                if (children[0].IsTensor)
                {
                    // Merged items must agree on their tensors (kind and dtype); only whole submodules may be missing (nullable).
                    var first = children[0].Tensor!;
                    if (children.Any(c => TensorKinds.Signature(c.Tensor!) != TensorKinds.Signature(first)) || nullable)
                    {
                        return null;
                    }
                    members.Add(new MemberSpec(name, MemberKind.Tensor, segment, DTypes.ElementType(first.DType), false,
                        TensorDoc(keyPattern, children.Select(c => c.Tensor!))) { TensorKind = first.Kind });
                    continue;
                }
                var member = BuildModuleMember(name, segment, children, keyPattern, listDepth, nullable, used, nested);
                if (member is null)
                {
                    return null;
                }
                members.Add(member);
            }
            return new ClassSpec(typeName, doc, members.ToEquatableArray(), nested.ToEquatableArray());
        }

        private MemberSpec? BuildModuleMember(string name, string segment, List<RawNode> modules, string keyPattern, int listDepth, bool nullable, HashSet<string> used, List<ClassSpec> nested)
        {
            var list = TryList(name, segment, modules, keyPattern, listDepth, nullable, used, nested);
            if (list != null)
            {
                return list;
            }
            string typeName = Unique(name + "Module", used, null, null);
            var spec = BuildClass(typeName, modules, keyPattern + ".", listDepth, Enumerable.Empty<string>(), $"Module <c>{Identifiers.Xml(keyPattern)}</c>.");
            if (spec is null)
            {
                return null;
            }
            nested.Add(spec);
            return new MemberSpec(name, MemberKind.Module, segment, typeName, nullable,
                $"Module <c>{Identifiers.Xml(keyPattern)}</c>.{(nullable ? " Null where this item has no such module." : "")}");
        }

        /// <summary>A list when every instance's children are indices 0..n-1 and the items merge into one structure.</summary>
        private MemberSpec? TryList(string name, string segment, List<RawNode> modules, string keyPattern, int listDepth, bool nullable, HashSet<string> used, List<ClassSpec> nested)
        {
            foreach (var module in modules)
            {
                for (int i = 0; i < module.Children.Count; i++)
                {
                    if (!Identifiers.IsIndex(module.Children[i].Segment) || int.Parse(module.Children[i].Segment, System.Globalization.CultureInfo.InvariantCulture) >= module.Children.Count)
                    {
                        return null;
                    }
                }
            }
            var items = modules.SelectMany(m => m.Children).ToList();
            string index = IndexNames[System.Math.Min(listDepth, IndexNames.Length - 1)];
            string itemPattern = $"{keyPattern}.{{{index}}}";
            if (items.All(i => i.IsTensor))
            {
                // A list of tensors is of dense ones of one dtype; sparse, quantized or meta items get a property each.
                var dtypes = items.Select(i => i.Tensor!.DType).Distinct().ToList();
                return dtypes.Count == 1 && items.All(i => i.Tensor!.Kind == TensorKind.Dense)
                    ? new MemberSpec(name, MemberKind.TensorList, segment, DTypes.ElementType(dtypes[0]), nullable, TensorDoc(itemPattern, items.Select(i => i.Tensor!)))
                    : null;
            }
            if (items.Any(i => i.IsTensor) || !SharesAMember(items))
            {
                return null;
            }
            int mark = _diagnostics.Count;
            string typeName = Unique(name + "Item", used, null, null);
            var spec = BuildClass(typeName, items, itemPattern + ".", listDepth + 1, Enumerable.Empty<string>(), $"An item of <c>{Identifiers.Xml(keyPattern)}</c> (<c>{Identifiers.Xml(itemPattern)}</c>).");
            if (spec is null)
            {
                _diagnostics.RemoveRange(mark, _diagnostics.Count - mark);
                used.Remove(typeName);
                return null;
            }
            nested.Add(spec);
            return new MemberSpec(name, MemberKind.ModuleList, segment, typeName, nullable,
                $"The items of <c>{Identifiers.Xml(keyPattern)}</c>, in index order.{(nullable ? " Null where this item has no such list." : "")}");
        }

        private static bool SharesAMember(List<RawNode> items)
        {
            var common = new HashSet<string>(items[0].Children.Select(c => c.Segment));
            foreach (var item in items.Skip(1))
            {
                common.IntersectWith(item.Children.Select(c => c.Segment));
            }
            return common.Count > 0;
        }

        private string Unique(string name, HashSet<string> used, RawNode? reportAt, string? segment)
        {
            string candidate = name;
            for (int n = 2; used.Contains(candidate); n++)
            {
                candidate = name + "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            used.Add(candidate);
            if (candidate != name && reportAt != null)
            {
                var tensor = reportAt.FirstTensor();
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.Renamed, tensor.KeyLocation, segment!, tensor.Key, candidate, name));
            }
            return candidate;
        }

        private static string TensorDoc(string keyPattern, IEnumerable<SchemaTensor> tensors)
        {
            var all = tensors.ToList();
            var shapes = all.Select(t => "[" + string.Join(", ", t.Shape) + "]").Distinct().ToList();
            string shapeText = shapes.Count <= 4 ? string.Join(" or ", shapes) : string.Join(" or ", shapes.Take(4)) + " or …";
            return TensorKinds.Doc(Identifiers.Xml(keyPattern), all[0], shapeText) + ".";
        }
    }
}
