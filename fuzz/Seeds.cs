using System.IO.Compression;
using System.Text;

namespace StateDict.Fuzz;

/// <summary>
/// Tiny hand-made checkpoints that reach what the PyTorch fixtures do not: deflated records, a big-endian byteorder,
/// untyped storages with <c>_rebuild_tensor_v3</c>, strided and broadcast views, parameters, protocol 4 opcodes and
/// plain values of every kind, and a safetensors file. Each is a few hundred bytes, so AFL mutates them cheaply. <c>--seeds DIR</c> writes them.
/// </summary>
internal static class Seeds
{
    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var floats = new byte[16];
        for (int i = 0; i < 4; i++)
        {
            BitConverter.TryWriteBytes(floats.AsSpan(i * 4), i + 1f);
        }
        var seeds = new Dictionary<string, byte[]>
        {
            ["tiny_stored.pth"] = Zip(StateDict(p => p.Tensor("w", "FloatStorage", "0", 4, [2, 2], [2, 1])), ("0", floats)),
            ["tiny_deflated.pth"] = Zip(StateDict(p => p.Tensor("w", "FloatStorage", "0", 4, [2, 2], [1, 2])), ("0", floats), deflate: true),
            ["tiny_views.pth"] = Zip(StateDict(p => p
                .Tensor("t", "FloatStorage", "0", 4, [2, 2], [1, 2])
                .Tensor("b", "FloatStorage", "0", 4, [3, 4], [0, 1])
                .Tensor("s", "FloatStorage", "0", 4, [2], [2], offset: 1)
                .Tensor("e", "FloatStorage", "0", 4, [0, 5], [5, 1])
                .Tensor("p", "FloatStorage", "0", 4, [4], [1], parameter: true)), ("0", floats)),
            ["tiny_v3_untyped.pth"] = Zip(StateDict(p => p
                .TensorV3("h", "0", 16, "float16", [8], [1])
                .TensorV3("i", "1", 16, "int64", [2], [1])), ("0", floats), ("1", floats)),
            ["tiny_bigendian.pth"] = Zip(StateDict(p => p
                .Tensor("l", "LongStorage", "0", 2, [2], [1])
                .Tensor("b", "BoolStorage", "1", 2, [2], [1])),
                ("0", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]), ("1", [1, 0]), ("byteorder", "big"u8.ToArray())),
            ["tiny_values.pth"] = Zip(new P().Proto(2).Op('}').Op('(')
                .Str("epoch").Op('K').B(7)
                .Str("lr").Op('G').Raw(0x3f, 0x50, 0x62, 0x4d, 0xd2, 0xf1, 0xa9, 0xfc)
                .Str("name").Str("mlp")
                .Str("none").Op('N')
                .Str("flag").Op(0x88)
                .Str("big").Op(0x8a).B(9).Raw(1, 0, 0, 0, 0, 0, 0, 0, 1)
                .Str("bytes").Global("_codecs", "encode").Str("\u00ff\u0001").Str("latin1").Op(0x86).Op('R')
                .Str("device").Global("torch", "device").Str("cuda").Op('K').B(0).Op(0x86).Op('R')
                .Str("layers").Op(']').Op('(').Op('K').B(1).Op('K').B(2).Op('e')
                .Str("shape").Global("torch", "Size").Op('K').B(3).Op('K').B(4).Op(0x86).Op(0x85).Op('R')
                .Str("set").Global("builtins", "set").Op(']').Op('K').B(5).Op('a').Op(0x85).Op('R')
                .Str("memo").Op('q').B(0).Op('0').Str("again").Op('h').B(0)
                .Op('u').Op('.').ToArray()),
            ["tiny_protocol4.pth"] = Zip(new P().Proto(4).Op(0x95).U64(0).Op('}').Op(0x94).Op('(')
                .Op(0x8c).B(1).Ascii("w").Op(0x94)
                .Op(0x8c).B(12).Ascii("torch._utils").Op(0x8c).B(18).Ascii("_rebuild_tensor_v2").Op(0x93).Op(0x94)
                .Op('(').Op('(').Op(0x8c).B(7).Ascii("storage").Op(0x8c).B(5).Ascii("torch").Op(0x8c).B(12).Ascii("FloatStorage").Op(0x93)
                .Op(0x8c).B(1).Ascii("0").Op(0x8c).B(3).Ascii("cpu").Op('K').B(4).Op('t').Op('Q')
                .Op('K').B(0).Op('K').B(4).Op(0x85).Op('K').B(1).Op(0x85).Op(0x89)
                .Op(0x8c).B(11).Ascii("collections").Op(0x8c).B(11).Ascii("OrderedDict").Op(0x93).Op(')').Op('R')
                .Op('t').Op(0x94).Op('R').Op('u').Op('.').ToArray(), ("0", floats)),
            ["tiny.safetensors"] = Safetensors(
                """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}}""", floats),
        };
        foreach (var (name, bytes) in seeds)
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }
        Console.WriteLine($"wrote {seeds.Count} seeds to {directory}");
        return 0;
    }

    /// <summary>A safetensors file: 8-byte little-endian header length, the JSON header, then the data.</summary>
    private static byte[] Safetensors(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data];
    }

    private static byte[] StateDict(Action<P> tensors)
    {
        var p = new P().Proto(2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
        tensors(p);
        return p.Op('u').Op('.').ToArray();
    }

    private static byte[] Zip(byte[] pickle, params (string Key, byte[] Data)[] records) => Zip(pickle, records, deflate: false);

    private static byte[] Zip(byte[] pickle, (string Key, byte[] Data) record, bool deflate) => Zip(pickle, [record], deflate);

    private static byte[] Zip(byte[] pickle, (string Key, byte[] Data)[] records, bool deflate)
    {
        var level = deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression;
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, "archive/data.pkl", pickle, level);
            foreach (var (key, data) in records)
            {
                Add(zip, key == "byteorder" ? "archive/byteorder" : "archive/data/" + key, data, level);
            }
            Add(zip, "archive/version", "3\n"u8.ToArray(), CompressionLevel.NoCompression);
        }
        return buffer.ToArray();
    }

    private static void Add(ZipArchive zip, string name, byte[] data, CompressionLevel level)
    {
        using var entry = zip.CreateEntry(name, level).Open();
        entry.Write(data);
    }

    /// <summary>A minimal pickle writer (opcodes by their character or byte).</summary>
    private sealed class P
    {
        private readonly List<byte> _bytes = [];

        public byte[] ToArray() => [.. _bytes];

        public P Op(char op) => B((byte)op);

        public P Op(byte op) => B(op);

        public P B(byte value)
        {
            _bytes.Add(value);
            return this;
        }

        public P Raw(params byte[] bytes)
        {
            _bytes.AddRange(bytes);
            return this;
        }

        public P Ascii(string text) => Raw(Encoding.ASCII.GetBytes(text));

        public P U64(ulong value) => Raw(BitConverter.GetBytes(value));

        public P Proto(byte version) => B(0x80).B(version);

        public P Str(string text)
        {
            var utf8 = Encoding.UTF8.GetBytes(text);
            return Op('X').Raw(BitConverter.GetBytes(utf8.Length)).Raw(utf8);
        }

        public P Global(string module, string name) => Op('c').Ascii($"{module}\n{name}\n");

        private P Ints(long[] values)
        {
            Op('(');
            foreach (long v in values)
            {
                Op('J').Raw(BitConverter.GetBytes((int)v));
            }
            return Op('t');
        }

        private P Storage(string type, string key, long numel) =>
            Op('(').Str("storage").Global("torch", type).Str(key).Str("cpu").Op('J').Raw(BitConverter.GetBytes((int)numel)).Op('t').Op('Q');

        public P Tensor(string name, string type, string key, long numel, long[] size, long[] stride, long offset = 0, bool parameter = false)
        {
            Str(name);
            if (parameter)
            {
                Global("torch._utils", "_rebuild_parameter").Op('(');
            }
            Global("torch._utils", "_rebuild_tensor_v2").Op('(').Storage(type, key, numel).Op('J').Raw(BitConverter.GetBytes((int)offset))
                .Ints(size).Ints(stride).Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
            return parameter ? Op(0x88).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R') : this;
        }

        public P TensorV3(string name, string key, long bytes, string dtype, long[] size, long[] stride)
        {
            Str(name).Global("torch._utils", "_rebuild_tensor_v3").Op('(');
            Op('(').Str("storage").Global("torch.storage", "UntypedStorage").Str(key).Str("cpu").Op('J').Raw(BitConverter.GetBytes((int)bytes)).Op('t').Op('Q');
            return Op('K').B(0).Ints(size).Ints(stride).Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R')
                .Global("torch", dtype).Op('t').Op('R');
        }
    }
}
