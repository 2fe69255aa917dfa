using System.Collections.Generic;
using System.Linq;

namespace StateDict.Generator.Model
{
    /// <summary>PyTorch dtype names and the runtime's element types (mirrors StateDict.DTypeInfo, which an analyzer cannot reference).</summary>
    internal static class DTypes
    {
        /// <summary>name → (DType enum member, fully qualified element type as Roslyn displays it).</summary>
        private static readonly Dictionary<string, (string Member, string ElementType)> Table = new Dictionary<string, (string, string)>
        {
            ["float32"] = ("Float32", "float"),
            ["float64"] = ("Float64", "double"),
            ["float16"] = ("Float16", "global::System.Half"),
            ["bfloat16"] = ("BFloat16", "global::StateDict.BFloat16"),
            ["int64"] = ("Int64", "long"),
            ["int32"] = ("Int32", "int"),
            ["int16"] = ("Int16", "short"),
            ["int8"] = ("Int8", "sbyte"),
            ["uint8"] = ("UInt8", "byte"),
            ["bool"] = ("Bool", "bool"),
            ["complex64"] = ("Complex64", "global::StateDict.Complex64"),
            ["complex128"] = ("Complex128", "global::System.Numerics.Complex"),
            ["uint16"] = ("UInt16", "ushort"),
            ["uint32"] = ("UInt32", "uint"),
            ["uint64"] = ("UInt64", "ulong"),
            ["float8_e4m3fn"] = ("Float8E4M3FN", "global::StateDict.Float8E4M3FN"),
            ["float8_e5m2"] = ("Float8E5M2", "global::StateDict.Float8E5M2"),
            ["complex32"] = ("Complex32", "global::StateDict.Complex32"),
            ["float8_e4m3fnuz"] = ("Float8E4M3FNUZ", "global::StateDict.Float8E4M3FNUZ"),
            ["float8_e5m2fnuz"] = ("Float8E5M2FNUZ", "global::StateDict.Float8E5M2FNUZ"),
            ["float8_e8m0fnu"] = ("Float8E8M0FNU", "global::StateDict.Float8E8M0FNU"),
            ["float4_e2m1fn_x2"] = ("Float4E2M1FNx2", "global::StateDict.Float4E2M1FNx2"),
            ["float6_e2m3fn_x4"] = ("Float6E2M3x4", "global::StateDict.Float6E2M3x4"),
            ["float6_e3m2fn_x4"] = ("Float6E3M2x4", "global::StateDict.Float6E3M2x4"),
        };

        private static readonly Dictionary<string, string> Aliases = new Dictionary<string, string>
        {
            ["float"] = "float32",
            ["double"] = "float64",
            ["half"] = "float16",
            ["long"] = "int64",
            ["int"] = "int32",
            ["short"] = "int16",
            ["cfloat"] = "complex64",
            ["cdouble"] = "complex128",
            ["chalf"] = "complex32",
        };

        public static bool TryCanonical(string name, out string canonical)
        {
            canonical = name.StartsWith("torch.", System.StringComparison.Ordinal) ? name.Substring("torch.".Length) : name;
            if (Aliases.TryGetValue(canonical, out var aliased))
            {
                canonical = aliased;
            }
            return Table.ContainsKey(canonical);
        }

        private static readonly HashSet<string> FloatingTypes = new HashSet<string>
        {
            "float", "double", "global::System.Half", "global::StateDict.BFloat16",
        };

        private static readonly HashSet<string> FloatingDTypes = new HashSet<string>
        {
            "float32", "float64", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
        };

        private static readonly HashSet<string> IntegerDTypes = new HashSet<string>
        {
            "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64",
        };

        /// <summary>float, double, Half or BFloat16: the element types a load can convert to.</summary>
        public static bool IsFloatingElementType(string elementType) => FloatingTypes.Contains(elementType);

        /// <summary>Whether an element type is that of a floating dtype (float8s included).</summary>
        public static bool IsFloatingElement(string elementType) => FloatingDTypes.Any(d => Table[d].ElementType == elementType);

        /// <summary>
        /// Whether a tensor of dtype <paramref name="canonical"/> binds to <paramref name="elementType"/>: its own
        /// element type, or converted (floating → any floating type; integer → float or double).
        /// </summary>
        public static bool CanBind(string canonical, string elementType) =>
            ElementType(canonical) == elementType
            || (FloatingDTypes.Contains(canonical) && FloatingTypes.Contains(elementType))
            || (IntegerDTypes.Contains(canonical) && (elementType == "float" || elementType == "double"));

        public static string Member(string canonical) => Table[canonical].Member;

        public static string ElementType(string canonical) => Table[canonical].ElementType;

        /// <summary>The short C# name for messages (float, Half, BFloat16, …).</summary>
        public static string ShortElementType(string canonical)
        {
            string full = ElementType(canonical);
            int dot = full.LastIndexOf('.');
            return dot < 0 ? full : full.Substring(dot + 1);
        }
    }
}
