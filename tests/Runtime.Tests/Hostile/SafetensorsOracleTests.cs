using System.Text;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace StateDict.Tests.Hostile;

/// <summary>
/// A property test of StateDict's safetensors reader against the safetensors crate's documented rules
/// (<c>SafeTensors::read_metadata</c> and <c>Metadata::validate</c> in safetensors/src/tensor.rs, serde_json
/// underneath), written out again here as a small independent oracle over a generated header model: random headers,
/// valid and invalid (offsets with holes, overlaps and reversals, any header order, shapes that overflow, sub-byte
/// dtypes, unknown dtypes, leading whitespace, space or NUL padding, metadata with non-string values, duplicate names,
/// nesting around serde_json's limit, data one byte short or long). StateDict must open a file exactly when the crate
/// would, except where it is deliberately stricter (duplicate names or metadata keys, a dimension over 2^63 - 1, a
/// dtype with no .NET element type yet), where it must refuse saying so; and an opened file must give each tensor
/// exactly the bytes its <c>data_offsets</c> name.
/// </summary>
/// <remarks>Cases come from a fixed seed; set STATEDICT_PROPERTY_CASES to run more.</remarks>
public class SafetensorsOracleTests(ITestOutputHelper output)
{
    private const ulong Seed = 0x5afe_7e45_0000_0001;

    /// <summary>The crate's dtypes with their bits (its <c>Dtype::bitsize</c>), and two it does not know.</summary>
    private static readonly (string Code, int Bits)[] DTypes =
    [
        ("BOOL", 8), ("F4", 4), ("F6_E2M3", 6), ("F6_E3M2", 6), ("U8", 8), ("I8", 8), ("F8_E5M2", 8), ("F8_E4M3", 8),
        ("F8_E8M0", 8), ("I16", 16), ("U16", 16), ("F16", 16), ("BF16", 16), ("I32", 32), ("U32", 32), ("F32", 32),
        ("C64", 64), ("F64", 64), ("I64", 64), ("U64", 64), ("F128", 0), ("f32", 0),
    ];

    /// <summary>Packed sub-byte dtypes: StateDict reads them in whole groups along the last dimension (2 for F4, 4 for F6).</summary>
    private static readonly Dictionary<string, int> Packed = new() { ["F4"] = 2, ["F6_E2M3"] = 4, ["F6_E3M2"] = 4 };

    private static readonly string[] Names = ["a", "b", "c", "layer.0.weight", "__x"];

    private static readonly Gen<ulong> Dim = Gen.Frequency(
        (12, Gen.ULong[0, 5]),
        (1, Gen.OneOf(Gen.Const(1UL << 31), Gen.Const(1UL << 62), Gen.Const((1UL << 63) + 1), Gen.Const(ulong.MaxValue))));

    private static readonly Gen<EntrySpec> Entry =
        from name in Gen.Int[0, Names.Length - 1]
        from dtype in Gen.Int[0, DTypes.Length - 1]
        from shape in Dim.Array[0, 3]
        from edit in Gen.Frequency((20, Gen.Const(OffsetEdit.None)), (1, Gen.Enum<OffsetEdit>()))
        from extraDepth in Gen.Frequency((6, Gen.Const(-1)), (1, Gen.Int[0, 3]), (1, Gen.Int[123, 127]))
        select new EntrySpec(Names[name], DTypes[dtype].Code, DTypes[dtype].Bits, shape, edit, extraDepth);

    private static readonly Gen<HeaderSpec> Header =
        from entries in Entry.Array[0, 5]
        from rotate in Gen.Int[0, 4]
        from metadata in Gen.Frequency((4, Gen.Const(MetadataKind.Absent)), (1, Gen.Enum<MetadataKind>()))
        from metadataAt in Gen.Int[0, 5]
        from leading in Gen.Frequency((3, Gen.Const("")), (1, Gen.Char[" \t\n\r"].Array[1, 3].Select(c => new string(c))))
        from padding in Gen.Frequency((6, Gen.Const(Padding.Spaces)), (1, Gen.Enum<Padding>()))
        from dataDelta in Gen.Frequency((12, Gen.Const(0)), (1, Gen.OneOf(Gen.Const(-1), Gen.Const(1))))
        select new HeaderSpec(entries, rotate, metadata, metadataAt, leading, padding, dataDelta);

    [Fact]
    public void StateDict_opens_a_header_exactly_when_the_crate_would_and_reads_the_same_bytes()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("STATEDICT_PROPERTY_CASES"), out int n) ? n : 1500;
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (uint i = 0; i < cases; i++)
        {
            var pcg = new PCG(i, Seed);
            string seed = pcg.ToString();
            var spec = Header.Generate(pcg, null, out _);
            string result;
            try
            {
                result = Verify(spec);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"case {i} (seed \"{seed}\"): {e.Message}\nheader: {spec.Build().Header}");
            }
            tally[result] = tally.GetValueOrDefault(result) + 1;
        }
        output.WriteLine($"{cases} cases from seed 0x{Seed:x}: {string.Join(", ", tally.Select(t => $"{t.Key} {t.Value}"))}");
        Assert.True(tally.GetValueOrDefault("both read") > cases / 10, "too few valid headers: the generator needs rebalancing");
        Assert.True(tally.GetValueOrDefault("both refuse") > cases / 10, "too few invalid headers: the generator needs rebalancing");
    }

    private static string Verify(HeaderSpec spec)
    {
        var (header, data, tensors) = spec.Build();
        var headerBytes = Encoding.UTF8.GetBytes(header);
        bool crate = Oracle.Accepts(spec, tensors, headerBytes.Length, data.Length);
        using var file = new TempFile(SafetensorsFile.Build(headerBytes, data, pad: false), ".safetensors");
        Dictionary<string, byte[]> read;
        try
        {
            read = Read.All(file.Path);
        }
        catch (CheckpointException e)
        {
            if (!crate)
            {
                return "both refuse";
            }
            string? stricter = Stricter(spec, tensors, e);
            Assert.True(stricter is not null, $"the crate reads it, StateDict refuses: {e.Message}");
            return $"stricter: {stricter}";
        }
        Assert.True(crate, "StateDict reads it, the crate refuses it");
        Assert.Equal(tensors.Select(t => t.Name).Order(StringComparer.Ordinal), read.Keys.Order(StringComparer.Ordinal));
        foreach (var t in tensors)
        {
            Assert.Equal(data[(int)t.Begin..(int)t.End], read[t.Name]);
        }
        return "both read";
    }

    /// <summary>The documented places where StateDict refuses what the crate reads; null when the refusal is none of them.</summary>
    private static string? Stricter(HeaderSpec spec, List<Placed> tensors, CheckpointException e)
    {
        string message = e.Message;
        if (tensors.GroupBy(t => t.Name).Any(g => g.Count() > 1) && message.Contains("appears twice", StringComparison.Ordinal))
        {
            return "duplicate name";
        }
        if (spec.Metadata == MetadataKind.DuplicateKey && message.Contains("__metadata__ has the key 'k' twice", StringComparison.Ordinal))
        {
            return "duplicate metadata key";
        }
        if (tensors.Any(t => t.Entry.Shape.Any(d => d > long.MaxValue)) && message.Contains("larger than any file or tensor", StringComparison.Ordinal))
        {
            return "dimension over 2^63 - 1";
        }
        if (e is CheckpointFormatException
            && tensors.Any(t => Packed.TryGetValue(t.Entry.DType, out int group) && t.Entry.Shape is [.., var last] && last % (ulong)group != 0)
            && message.Contains("values in groups of", StringComparison.Ordinal))
        {
            return "packed values not in whole groups along the last dimension";
        }
        return null;
    }

    // ------------------------------------------------------------------ the oracle

    /// <summary>The crate's rules, from its source, on the generated model (not on the JSON text).</summary>
    private static class Oracle
    {
        private const int SerdeJsonDepth = 128; // serde_json's remaining_depth; entering the 128th level fails

        public static bool Accepts(HeaderSpec spec, List<Placed> tensors, long n, long dataLength)
        {
            // serde_json: the header must be JSON with whitespace only around it, nested less than 128 deep.
            if (spec.Padding == Padding.Nul || tensors.Any(t => t.Entry.ExtraDepth >= 0 && 2 + t.Entry.ExtraDepth >= SerdeJsonDepth))
            {
                return false;
            }
            // serde: __metadata__ is Option<HashMap<String, String>> (a repeated key: the last wins).
            if (spec.Metadata == MetadataKind.NumberValue)
            {
                return false;
            }
            // serde: every entry deserializes as a TensorInfo (its dtype one of the enum's names), then the map keeps the last of a repeated name.
            if (tensors.Any(t => t.Entry.Bits == 0))
            {
                return false;
            }
            var kept = new Dictionary<string, Placed>(StringComparer.Ordinal);
            foreach (var t in tensors)
            {
                kept[t.Name] = t;
            }
            // Metadata::validate, over the entries sorted by (begin, end).
            ulong start = 0;
            foreach (var t in kept.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                if (t.Begin != start || t.End < t.Begin)
                {
                    return false; // InvalidOffset
                }
                start = t.End;
                ulong elements = 1;
                foreach (ulong d in t.Entry.Shape)
                {
                    if (!CheckedMultiply(elements, d, out elements))
                    {
                        return false; // ValidationOverflow
                    }
                }
                if (!CheckedMultiply(elements, (ulong)t.Entry.Bits, out ulong bits))
                {
                    return false; // ValidationOverflow
                }
                if (bits % 8 != 0)
                {
                    return false; // MisalignedSlice
                }
                if (t.End - t.Begin != bits / 8)
                {
                    return false; // TensorInvalidInfo
                }
            }
            // read_metadata: the last tensor must end where the file ends.
            return start + 8 + (ulong)n == 8 + (ulong)n + (ulong)dataLength; // MetadataIncompleteBuffer
        }

        private static bool CheckedMultiply(ulong a, ulong b, out ulong product)
        {
            product = unchecked(a * b);
            return a == 0 || product / a == b;
        }
    }

    // ------------------------------------------------------------------ the model

    public enum OffsetEdit { None, BeginPlusOne, EndPlusOne, EndMinusOne, Reversed, BothZero }

    public enum MetadataKind { Absent, Null, Strings, NumberValue, DuplicateKey }

    public enum Padding { Spaces, Nul, None }

    public sealed record EntrySpec(string Name, string DType, int Bits, ulong[] Shape, OffsetEdit Edit, int ExtraDepth)
    {
        /// <summary>The byte size the shape needs, or 4 where it overflows or ends mid-byte (the file is then invalid anyway).</summary>
        public ulong Size()
        {
            ulong elements = 1;
            foreach (ulong d in Shape)
            {
                if (d != 0 && elements > ulong.MaxValue / d)
                {
                    return 4;
                }
                elements *= d;
            }
            if (Bits == 0 || (elements != 0 && elements > ulong.MaxValue / (ulong)Bits) || elements * (ulong)Bits % 8 != 0)
            {
                return 4;
            }
            return elements * (ulong)Bits / 8;
        }
    }

    public sealed record Placed(EntrySpec Entry, ulong Begin, ulong End)
    {
        public string Name => Entry.Name;
    }

    public sealed record HeaderSpec(EntrySpec[] Entries, int Rotate, MetadataKind Metadata, int MetadataAt, string Leading, Padding Padding, int DataDelta)
    {
        /// <summary>Lays the entries out back to back in generated order, applies each offset edit, and writes the header in a rotated order.</summary>
        public (string Header, byte[] Data, List<Placed> Tensors) Build()
        {
            var placed = new List<Placed>();
            ulong offset = 0;
            foreach (var e in Entries)
            {
                ulong size = Math.Min(e.Size(), 1 << 16); // keeps files small; a larger need fails the size check
                ulong begin = offset, end = offset + size;
                offset = end;
                (begin, end) = e.Edit switch
                {
                    OffsetEdit.BeginPlusOne => (begin + 1, end),
                    OffsetEdit.EndPlusOne => (begin, end + 1),
                    OffsetEdit.EndMinusOne when end > 0 => (begin, end - 1),
                    OffsetEdit.Reversed when end > begin => (end, begin),
                    OffsetEdit.BothZero => (0UL, 0UL),
                    _ => (begin, end),
                };
                placed.Add(new Placed(e, begin, end));
            }
            long dataLength = Math.Max(0, (long)offset + DataDelta);
            var data = new byte[dataLength];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)((i * 151) + 7);
            }
            var members = placed.Select(Json).ToList();
            int r = members.Count == 0 ? 0 : Rotate % members.Count;
            members = [.. members.Skip(r), .. members.Take(r)];
            string? metadata = Metadata switch
            {
                MetadataKind.Null => "\"__metadata__\":null",
                MetadataKind.Strings => "\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"}",
                MetadataKind.NumberValue => "\"__metadata__\":{\"format\":\"pt\",\"k\":1}",
                MetadataKind.DuplicateKey => "\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}",
                _ => null,
            };
            if (metadata is not null)
            {
                members.Insert(Math.Min(MetadataAt, members.Count), metadata);
            }
            string json = Leading + "{" + string.Join(",", members) + "}";
            int pad = (8 - (json.Length % 8)) % 8;
            json += Padding switch
            {
                Padding.Spaces => new string(' ', pad),
                Padding.Nul => new string('\0', Math.Max(pad, 1)),
                _ => "",
            };
            return (json, data, placed);
        }

        private static string Json(Placed t)
        {
            var e = t.Entry;
            string extra = e.ExtraDepth < 0 ? "" : $",\"extra\":{new string('[', e.ExtraDepth)}1{new string(']', e.ExtraDepth)}";
            return $"\"{e.Name}\":{{\"dtype\":\"{e.DType}\",\"shape\":[{string.Join(",", e.Shape)}],\"data_offsets\":[{t.Begin},{t.End}]{extra}}}";
        }
    }
}
