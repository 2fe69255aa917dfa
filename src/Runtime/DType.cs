#pragma warning disable CA1720 // The members mirror PyTorch's dtype names (torch.float32, torch.int64, ...).
using System.Numerics;

namespace StateDict;

/// <summary>A tensor element type as PyTorch names it.</summary>
public enum DType
{
    /// <summary><c>torch.float32</c> → <see cref="float"/>.</summary>
    Float32,
    /// <summary><c>torch.float64</c> → <see cref="double"/>.</summary>
    Float64,
    /// <summary><c>torch.float16</c> → <see cref="Half"/>.</summary>
    Float16,
    /// <summary><c>torch.bfloat16</c> → <see cref="StateDict.BFloat16"/>.</summary>
    BFloat16,
    /// <summary><c>torch.int64</c> → <see cref="long"/>.</summary>
    Int64,
    /// <summary><c>torch.int32</c> → <see cref="int"/>.</summary>
    Int32,
    /// <summary><c>torch.int16</c> → <see cref="short"/>.</summary>
    Int16,
    /// <summary><c>torch.int8</c> → <see cref="sbyte"/>.</summary>
    Int8,
    /// <summary><c>torch.uint8</c> → <see cref="byte"/>.</summary>
    UInt8,
    /// <summary>
    /// <c>torch.bool</c> → <see cref="bool"/>: one byte per element, read exactly as stored. PyTorch writes 0 and 1,
    /// but neither <c>torch.load</c> nor the safetensors crate checks the bytes, so a file may hold others (a
    /// <c>uint8</c> tensor saved through <c>.view(torch.bool)</c>, any safetensors BOOL tensor); StateDict keeps them
    /// too, in <c>Read&lt;bool&gt;</c>, <c>ReadBytes</c> and hashes, rather than refusing or normalizing. Such a byte
    /// is a .NET <see cref="bool"/> that tests true (<c>if (b)</c>, <c>b != false</c>) but is not
    /// <c>Equals(true)</c>, which compares the stored bytes; read the bytes themselves with <c>ReadBytes</c>.
    /// </summary>
    Bool,
    /// <summary><c>torch.complex64</c> → <see cref="StateDict.Complex64"/>.</summary>
    Complex64,
    /// <summary><c>torch.complex128</c> → <see cref="System.Numerics.Complex"/>.</summary>
    Complex128,
    /// <summary><c>torch.uint16</c> → <see cref="ushort"/>.</summary>
    UInt16,
    /// <summary><c>torch.uint32</c> → <see cref="uint"/>.</summary>
    UInt32,
    /// <summary><c>torch.uint64</c> → <see cref="ulong"/>.</summary>
    UInt64,
    /// <summary><c>torch.float8_e4m3fn</c> → <see cref="StateDict.Float8E4M3FN"/>.</summary>
    Float8E4M3FN,
    /// <summary><c>torch.float8_e5m2</c> → <see cref="StateDict.Float8E5M2"/>.</summary>
    Float8E5M2,
    /// <summary><c>torch.complex32</c> (<c>torch.chalf</c>) → <see cref="StateDict.Complex32"/>.</summary>
    Complex32,
    /// <summary><c>torch.float8_e4m3fnuz</c> (safetensors <c>F8_E4M3FNUZ</c>) → <see cref="StateDict.Float8E4M3FNUZ"/>.</summary>
    Float8E4M3FNUZ,
    /// <summary><c>torch.float8_e5m2fnuz</c> (safetensors <c>F8_E5M2FNUZ</c>) → <see cref="StateDict.Float8E5M2FNUZ"/>.</summary>
    Float8E5M2FNUZ,
    /// <summary><c>torch.float8_e8m0fnu</c> (safetensors <c>F8_E8M0</c>) → <see cref="StateDict.Float8E8M0FNU"/>.</summary>
    Float8E8M0FNU,
    /// <summary>
    /// <c>torch.float4_e2m1fn_x2</c> (safetensors <c>F4</c>) → <see cref="StateDict.Float4E2M1FNx2"/>: two float4 per byte,
    /// shape in bytes like torch (a safetensors <c>F4</c> tensor's last dimension is halved).
    /// </summary>
    Float4E2M1FNx2,
    /// <summary>
    /// safetensors <c>F6_E2M3</c> → <see cref="StateDict.Float6E2M3x4"/>: four float6 in three bytes, shape in groups of four
    /// (the last dimension is quartered). Not a torch dtype: StateDict's name.
    /// </summary>
    Float6E2M3x4,
    /// <summary>safetensors <c>F6_E3M2</c> → <see cref="StateDict.Float6E3M2x4"/>, packed like <see cref="Float6E2M3x4"/>. Not a torch dtype.</summary>
    Float6E3M2x4,
}

/// <summary>Facts about each <see cref="DType"/>: its PyTorch name, size and .NET element type.</summary>
public static class DTypeInfo
{
    // Size is bytes per element (per packed group for the sub-byte formats); Packed is how many values one element holds.
    private static readonly (DType DType, string Name, int Size, Type Clr, string? Safetensors, int Packed)[] Table =
    [
        (DType.Float32, "float32", 4, typeof(float), "F32", 1),
        (DType.Float64, "float64", 8, typeof(double), "F64", 1),
        (DType.Float16, "float16", 2, typeof(Half), "F16", 1),
        (DType.BFloat16, "bfloat16", 2, typeof(BFloat16), "BF16", 1),
        (DType.Int64, "int64", 8, typeof(long), "I64", 1),
        (DType.Int32, "int32", 4, typeof(int), "I32", 1),
        (DType.Int16, "int16", 2, typeof(short), "I16", 1),
        (DType.Int8, "int8", 1, typeof(sbyte), "I8", 1),
        (DType.UInt8, "uint8", 1, typeof(byte), "U8", 1),
        (DType.Bool, "bool", 1, typeof(bool), "BOOL", 1),
        (DType.Complex64, "complex64", 8, typeof(Complex64), "C64", 1),
        (DType.Complex128, "complex128", 16, typeof(Complex), null, 1),
        (DType.UInt16, "uint16", 2, typeof(ushort), "U16", 1),
        (DType.UInt32, "uint32", 4, typeof(uint), "U32", 1),
        (DType.UInt64, "uint64", 8, typeof(ulong), "U64", 1),
        (DType.Float8E4M3FN, "float8_e4m3fn", 1, typeof(Float8E4M3FN), "F8_E4M3", 1),
        (DType.Float8E5M2, "float8_e5m2", 1, typeof(Float8E5M2), "F8_E5M2", 1),
        (DType.Complex32, "complex32", 4, typeof(Complex32), null, 1),
        (DType.Float8E4M3FNUZ, "float8_e4m3fnuz", 1, typeof(Float8E4M3FNUZ), "F8_E4M3FNUZ", 1),
        (DType.Float8E5M2FNUZ, "float8_e5m2fnuz", 1, typeof(Float8E5M2FNUZ), "F8_E5M2FNUZ", 1),
        (DType.Float8E8M0FNU, "float8_e8m0fnu", 1, typeof(Float8E8M0FNU), "F8_E8M0", 1),
        (DType.Float4E2M1FNx2, "float4_e2m1fn_x2", 1, typeof(Float4E2M1FNx2), "F4", 2),
        (DType.Float6E2M3x4, "float6_e2m3fn_x4", 3, typeof(Float6E2M3x4), "F6_E2M3", 4),
        (DType.Float6E3M2x4, "float6_e3m2fn_x4", 3, typeof(Float6E3M2x4), "F6_E3M2", 4),
    ];

    /// <summary>PyTorch's name for the dtype, as in <c>torch.float32</c> without the module.</summary>
    public static string Name(this DType dtype) => Table[(int)dtype].Name;

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => Table[(int)dtype].Size;

    /// <summary>The .NET type <see cref="Checkpoint.Read{T}(string)"/> expects for this dtype.</summary>
    public static Type ElementType(this DType dtype) => Table[(int)dtype].Clr;

    /// <summary>The safetensors dtype code (<c>F32</c>, <c>F8_E8M0</c>, <c>F4</c>, …); null where the format has none (complex128, complex32).</summary>
    public static string? SafetensorsName(this DType dtype) => Table[(int)dtype].Safetensors;

    /// <summary>
    /// How many values one element packs: 2 for <see cref="DType.Float4E2M1FNx2"/>, 4 for the float6 formats, else 1.
    /// A safetensors shape counts values; StateDict's (and torch's) counts elements, so the last dimension differs by this factor.
    /// </summary>
    public static int PackedValues(this DType dtype) => Table[(int)dtype].Packed;

    /// <summary>Parses a safetensors dtype code (<c>F32</c>, <c>F8_E4M3FNUZ</c>, <c>F4</c>, …).</summary>
    public static bool TryParseSafetensors(string code, out DType dtype)
    {
        foreach (var row in Table)
        {
            if (row.Safetensors == code)
            {
                dtype = row.DType;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>Parses a PyTorch dtype name (<c>float32</c>, <c>float</c>, <c>torch.half</c>, …).</summary>
    public static bool TryParse(string name, out DType dtype)
    {
        var bare = name.StartsWith("torch.", StringComparison.Ordinal) ? name["torch.".Length..] : name;
        bare = bare switch
        {
            "float" => "float32",
            "double" => "float64",
            "half" => "float16",
            "long" => "int64",
            "int" => "int32",
            "short" => "int16",
            "cfloat" => "complex64",
            "cdouble" => "complex128",
            "chalf" => "complex32",
            _ => bare,
        };
        foreach (var row in Table)
        {
            if (row.Name == bare)
            {
                dtype = row.DType;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>The dtype whose .NET element type is <typeparamref name="T"/>, if any.</summary>
    public static DType? Of<T>() => Of(typeof(T));

    /// <summary>The dtype whose .NET element type is <paramref name="type"/>, if any.</summary>
    public static DType? Of(Type type)
    {
        foreach (var row in Table)
        {
            if (row.Clr == type)
            {
                return row.DType;
            }
        }
        return null;
    }
}
