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
}

/// <summary>Facts about each <see cref="DType"/>: its PyTorch name, size and .NET element type.</summary>
public static class DTypeInfo
{
    private static readonly (DType DType, string Name, int Size, Type Clr)[] Table =
    [
        (DType.Float32, "float32", 4, typeof(float)),
        (DType.Float64, "float64", 8, typeof(double)),
        (DType.Float16, "float16", 2, typeof(Half)),
        (DType.BFloat16, "bfloat16", 2, typeof(BFloat16)),
        (DType.Int64, "int64", 8, typeof(long)),
        (DType.Int32, "int32", 4, typeof(int)),
        (DType.Int16, "int16", 2, typeof(short)),
        (DType.Int8, "int8", 1, typeof(sbyte)),
        (DType.UInt8, "uint8", 1, typeof(byte)),
        (DType.Bool, "bool", 1, typeof(bool)),
        (DType.Complex64, "complex64", 8, typeof(Complex64)),
        (DType.Complex128, "complex128", 16, typeof(Complex)),
        (DType.UInt16, "uint16", 2, typeof(ushort)),
        (DType.UInt32, "uint32", 4, typeof(uint)),
        (DType.UInt64, "uint64", 8, typeof(ulong)),
        (DType.Float8E4M3FN, "float8_e4m3fn", 1, typeof(Float8E4M3FN)),
        (DType.Float8E5M2, "float8_e5m2", 1, typeof(Float8E5M2)),
    ];

    /// <summary>PyTorch's name for the dtype, as in <c>torch.float32</c> without the module.</summary>
    public static string Name(this DType dtype) => Table[(int)dtype].Name;

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => Table[(int)dtype].Size;

    /// <summary>The .NET type <see cref="Checkpoint.Read{T}(string)"/> expects for this dtype.</summary>
    public static Type ElementType(this DType dtype) => Table[(int)dtype].Clr;

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
