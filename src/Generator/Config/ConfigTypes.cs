using System.Collections.Generic;
using System.Linq;
using StateDict.Generator.Model;

namespace StateDict.Generator.Config
{
    /// <summary>The type two sample values share: what a property must be to hold both.</summary>
    internal static class ConfigTypes
    {
        /// <summary>
        /// int, long, double widen to the wider; null or a missing member makes the other nullable; arrays and
        /// dictionaries unify their items; objects merge their members (one some lack becomes nullable). Anything else
        /// is <see cref="ConfigKind.Mixed"/>, and <paramref name="conflicts"/> says which two kinds met.
        /// </summary>
        public static ConfigType Unify(ConfigType a, ConfigType b, List<string> conflicts)
        {
            bool nullable = a.Nullable || b.Nullable;
            if (a.Kind == ConfigKind.Unknown)
            {
                return b with { Nullable = nullable };
            }
            if (b.Kind == ConfigKind.Unknown)
            {
                return a with { Nullable = nullable };
            }
            if (IsNumber(a.Kind) && IsNumber(b.Kind))
            {
                return ConfigType.Of(a.Kind > b.Kind ? a.Kind : b.Kind) with { Nullable = nullable };
            }
            if (a.Kind != b.Kind || a.Kind == ConfigKind.Mixed)
            {
                if (a.Kind != ConfigKind.Mixed && b.Kind != ConfigKind.Mixed)
                {
                    conflicts.Add(Describe(a.Kind) + " and " + Describe(b.Kind));
                }
                return ConfigType.Of(ConfigKind.Mixed) with { Nullable = nullable };
            }
            switch (a.Kind)
            {
                case ConfigKind.Array:
                case ConfigKind.Dictionary:
                    return a with { Nullable = nullable, Element = Unify(a.Element!, b.Element!, conflicts) };
                case ConfigKind.Object:
                    return a with { Nullable = nullable, Fields = Merge(a.Fields, b.Fields, conflicts) };
                default:
                    return a with { Nullable = nullable };
            }
        }

        /// <summary>A name for a kind in messages.</summary>
        public static string Describe(ConfigKind kind) => kind switch
        {
            ConfigKind.Int => "int",
            ConfigKind.Long => "long",
            ConfigKind.Double => "double",
            ConfigKind.Bool => "bool",
            ConfigKind.String => "string",
            ConfigKind.Object => "object",
            ConfigKind.Array => "array",
            ConfigKind.Dictionary => "object",
            _ => "JSON",
        };

        private static bool IsNumber(ConfigKind kind) => kind == ConfigKind.Int || kind == ConfigKind.Long || kind == ConfigKind.Double;

        private static EquatableArray<ConfigField> Merge(EquatableArray<ConfigField> a, EquatableArray<ConfigField> b, List<string> conflicts)
        {
            var inB = b.ToDictionary(f => f.Key);
            var merged = new List<ConfigField>();
            foreach (var field in a)
            {
                merged.Add(inB.TryGetValue(field.Key, out var other)
                    ? field with { Type = Unify(field.Type, other.Type, conflicts), Sample = field.Sample ?? other.Sample }
                    : field with { Type = field.Type with { Nullable = true } });
            }
            var inA = new HashSet<string>(a.Select(f => f.Key));
            merged.AddRange(b.Where(f => !inA.Contains(f.Key)).Select(f => f with { Type = f.Type with { Nullable = true } }));
            return merged.ToEquatableArray();
        }
    }
}
