using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using StateDict.Pickle;

namespace StateDict.Tests.Pickle;

/// <summary>
/// Emits pickle bytes opcode by opcode, so a test reads as the specification of the pickle it feeds the VM:
/// <c>new PickleBuilder().Proto(2).EmptyDict().Mark().BinUnicode("a").BinInt1(1).SetItems().Stop().ToArray()</c>.
/// Every method appends exactly the opcode it is named after and its argument, encoded as CPython's
/// Lib/pickle.py writes it; nothing is validated, so hostile pickles are as easy to write as good ones.
/// </summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = [];

    /// <summary>Offset the next opcode will have (what error messages report as "byte N").</summary>
    public int Position => _bytes.Count;

    public byte[] ToArray() => [.. _bytes];

    // ---- raw material ----

    public PickleBuilder Op(PickleOpcode op) => Raw((byte)op);

    public PickleBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public PickleBuilder Ascii(string text) => Raw(Encoding.Latin1.GetBytes(text));

    /// <summary>Appends the same steps <paramref name="count"/> times.</summary>
    public PickleBuilder Repeat(int count, Action<PickleBuilder> steps)
    {
        for (int i = 0; i < count; i++)
        {
            steps(this);
        }
        return this;
    }

    private PickleBuilder Line(PickleOpcode op, string text) => Op(op).Ascii(text + "\n");

    private PickleBuilder U16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return Raw(b.ToArray());
    }

    private PickleBuilder U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Raw(b.ToArray());
    }

    private PickleBuilder U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return Raw(b.ToArray());
    }

    // ---- framing and stack ----

    public PickleBuilder Proto(int version) => Op(PickleOpcode.Proto).Raw((byte)version);

    /// <summary>FRAME with an explicit declared length (CPython frames the bytes up to the next frame or STOP).</summary>
    public PickleBuilder Frame(ulong length) => Op(PickleOpcode.Frame).U64(length);

    public PickleBuilder Stop() => Op(PickleOpcode.Stop);

    public PickleBuilder Mark() => Op(PickleOpcode.Mark);

    public PickleBuilder Pop() => Op(PickleOpcode.Pop);

    public PickleBuilder PopMark() => Op(PickleOpcode.PopMark);

    public PickleBuilder Dup() => Op(PickleOpcode.Dup);

    // ---- numbers ----

    /// <summary>INT with its text argument as written ("42", "-7", "01" for True, "00" for False).</summary>
    public PickleBuilder Int(string text) => Line(PickleOpcode.Int, text);

    public PickleBuilder Int(long value) => Int(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public PickleBuilder BinInt(int value) => Op(PickleOpcode.BinInt).U32(unchecked((uint)value));

    public PickleBuilder BinInt1(byte value) => Op(PickleOpcode.BinInt1).Raw(value);

    public PickleBuilder BinInt2(ushort value) => Op(PickleOpcode.BinInt2).U16(value);

    /// <summary>LONG with its text argument as written (Python 2 appends an "L": "123L").</summary>
    public PickleBuilder Long(string text) => Line(PickleOpcode.Long, text);

    /// <summary>LONG1 with explicit little-endian two's-complement digits (any count, even an empty one).</summary>
    public PickleBuilder Long1(params byte[] littleEndian) => Op(PickleOpcode.Long1).Raw((byte)littleEndian.Length).Raw(littleEndian);

    public PickleBuilder Long1(BigInteger value) => Long1(LongDigits(value));

    /// <summary>LONG4 with explicit little-endian two's-complement digits.</summary>
    public PickleBuilder Long4(params byte[] littleEndian) => Op(PickleOpcode.Long4).U32((uint)littleEndian.Length).Raw(littleEndian);

    public PickleBuilder Long4(BigInteger value) => Long4(LongDigits(value));

    /// <summary>LONG4 declaring <paramref name="width"/> digit bytes, with none of them present.</summary>
    public PickleBuilder Long4Header(int width) => Op(PickleOpcode.Long4).U32(unchecked((uint)width));

    public PickleBuilder Float(string text) => Line(PickleOpcode.Float, text);

    public PickleBuilder BinFloat(double value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, value);
        return Op(PickleOpcode.BinFloat).Raw(b.ToArray());
    }

    public PickleBuilder None() => Op(PickleOpcode.None);

    public PickleBuilder NewTrue() => Op(PickleOpcode.NewTrue);

    public PickleBuilder NewFalse() => Op(PickleOpcode.NewFalse);

    // ---- strings and bytes ----

    /// <summary>STRING with its argument as written, quotes and backslash escapes included: <c>'a\\nb'</c>.</summary>
    public PickleBuilder String(string quoted) => Line(PickleOpcode.String, quoted);

    public PickleBuilder BinString(byte[] data) => Op(PickleOpcode.BinString).U32((uint)data.Length).Raw(data);

    public PickleBuilder ShortBinString(byte[] data) => Op(PickleOpcode.ShortBinString).Raw((byte)data.Length).Raw(data);

    /// <summary>UNICODE with its raw-unicode-escape argument as written (Latin-1 bytes, \uXXXX and \UXXXXXXXX escapes).</summary>
    public PickleBuilder Unicode(string rawUnicodeEscape) => Line(PickleOpcode.Unicode, rawUnicodeEscape);

    public PickleBuilder BinUnicode(string text) => BinUnicode(Encoding.UTF8.GetBytes(text));

    public PickleBuilder BinUnicode(byte[] utf8) => Op(PickleOpcode.BinUnicode).U32((uint)utf8.Length).Raw(utf8);

    public PickleBuilder ShortBinUnicode(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Op(PickleOpcode.ShortBinUnicode).Raw((byte)utf8.Length).Raw(utf8);
    }

    public PickleBuilder BinUnicode8(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Op(PickleOpcode.BinUnicode8).U64((ulong)utf8.Length).Raw(utf8);
    }

    public PickleBuilder BinBytes(byte[] data) => Op(PickleOpcode.BinBytes).U32((uint)data.Length).Raw(data);

    public PickleBuilder ShortBinBytes(byte[] data) => Op(PickleOpcode.ShortBinBytes).Raw((byte)data.Length).Raw(data);

    public PickleBuilder BinBytes8(byte[] data) => Op(PickleOpcode.BinBytes8).U64((ulong)data.Length).Raw(data);

    public PickleBuilder ByteArray8(byte[] data) => Op(PickleOpcode.ByteArray8).U64((ulong)data.Length).Raw(data);

    /// <summary>A length-prefixed opcode (BINUNICODE, BINBYTES8, ...) whose 1-, 4- or 8-byte length says <paramref name="declared"/>, and no payload.</summary>
    public PickleBuilder LengthHeader(PickleOpcode op, ulong declared) => op switch
    {
        PickleOpcode.ShortBinUnicode or PickleOpcode.ShortBinBytes or PickleOpcode.ShortBinString => Op(op).Raw((byte)declared),
        PickleOpcode.BinUnicode or PickleOpcode.BinBytes or PickleOpcode.BinString => Op(op).U32((uint)declared),
        PickleOpcode.BinUnicode8 or PickleOpcode.BinBytes8 or PickleOpcode.ByteArray8 => Op(op).U64(declared),
        _ => throw new ArgumentException($"{op} has no length prefix", nameof(op)),
    };

    // ---- containers ----

    public PickleBuilder EmptyTuple() => Op(PickleOpcode.EmptyTuple);

    public PickleBuilder Tuple() => Op(PickleOpcode.Tuple);

    public PickleBuilder Tuple1() => Op(PickleOpcode.Tuple1);

    public PickleBuilder Tuple2() => Op(PickleOpcode.Tuple2);

    public PickleBuilder Tuple3() => Op(PickleOpcode.Tuple3);

    public PickleBuilder EmptyList() => Op(PickleOpcode.EmptyList);

    public PickleBuilder List() => Op(PickleOpcode.List);

    public PickleBuilder Append() => Op(PickleOpcode.Append);

    public PickleBuilder Appends() => Op(PickleOpcode.Appends);

    public PickleBuilder EmptyDict() => Op(PickleOpcode.EmptyDict);

    public PickleBuilder Dict() => Op(PickleOpcode.Dict);

    public PickleBuilder SetItem() => Op(PickleOpcode.SetItem);

    public PickleBuilder SetItems() => Op(PickleOpcode.SetItems);

    public PickleBuilder EmptySet() => Op(PickleOpcode.EmptySet);

    public PickleBuilder AddItems() => Op(PickleOpcode.AddItems);

    public PickleBuilder FrozenSet() => Op(PickleOpcode.FrozenSet);

    // ---- memo ----

    public PickleBuilder Put(long index) => Line(PickleOpcode.Put, index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public PickleBuilder Get(long index) => Line(PickleOpcode.Get, index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public PickleBuilder BinPut(byte index) => Op(PickleOpcode.BinPut).Raw(index);

    public PickleBuilder BinGet(byte index) => Op(PickleOpcode.BinGet).Raw(index);

    public PickleBuilder LongBinPut(uint index) => Op(PickleOpcode.LongBinPut).U32(index);

    public PickleBuilder LongBinGet(uint index) => Op(PickleOpcode.LongBinGet).U32(index);

    public PickleBuilder Memoize() => Op(PickleOpcode.Memoize);

    // ---- names, calls, persistent ids ----

    public PickleBuilder Global(string module, string name) => Op(PickleOpcode.Global).Ascii(module + "\n" + name + "\n");

    public PickleBuilder StackGlobal() => Op(PickleOpcode.StackGlobal);

    /// <summary>SHORT_BINUNICODE module, SHORT_BINUNICODE name, STACK_GLOBAL: how protocol 4 names a global.</summary>
    public PickleBuilder StackGlobal(string module, string name) => ShortBinUnicode(module).ShortBinUnicode(name).StackGlobal();

    public PickleBuilder Reduce() => Op(PickleOpcode.Reduce);

    public PickleBuilder NewObj() => Op(PickleOpcode.NewObj);

    public PickleBuilder NewObjEx() => Op(PickleOpcode.NewObjEx);

    public PickleBuilder Inst(string module, string name) => Op(PickleOpcode.Inst).Ascii(module + "\n" + name + "\n");

    public PickleBuilder Obj() => Op(PickleOpcode.Obj);

    public PickleBuilder Build() => Op(PickleOpcode.Build);

    public PickleBuilder BinPersId() => Op(PickleOpcode.BinPersId);

    public PickleBuilder PersId(string id) => Line(PickleOpcode.PersId, id);

    public PickleBuilder Ext1(byte code) => Op(PickleOpcode.Ext1).Raw(code);

    public PickleBuilder Ext2(ushort code) => Op(PickleOpcode.Ext2).U16(code);

    public PickleBuilder Ext4(uint code) => Op(PickleOpcode.Ext4).U32(code);

    public PickleBuilder NextBuffer() => Op(PickleOpcode.NextBuffer);

    public PickleBuilder ReadOnlyBuffer() => Op(PickleOpcode.ReadOnlyBuffer);

    // ---- torch idioms (what torch.save writes, protocol 2) ----

    /// <summary>The persistent id <c>('storage', torch.{storageClass}, key, 'cpu', numel)</c> followed by BINPERSID.</summary>
    public PickleBuilder StoragePid(string storageClass, string key, long numel) =>
        Mark().BinUnicode("storage").Global("torch", storageClass).BinUnicode(key).BinUnicode("cpu").Int64(numel).Tuple().BinPersId();

    /// <summary>
    /// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())</c> over a
    /// <c>torch.{storageClass}</c> storage of <paramref name="numel"/> elements under <paramref name="key"/>.
    /// </summary>
    public PickleBuilder Tensor(string storageClass, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark().StoragePid(storageClass, key, numel).Int64(offset);
        Mark().Ints(size).Tuple();
        Mark().Ints(stride).Tuple();
        return NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
    }

    /// <summary>The smallest opcode torch would use for a non-negative or negative 64-bit integer.</summary>
    public PickleBuilder Int64(long value) => value switch
    {
        >= 0 and <= byte.MaxValue => BinInt1((byte)value),
        >= 0 and <= ushort.MaxValue => BinInt2((ushort)value),
        >= int.MinValue and <= int.MaxValue => BinInt((int)value),
        _ => Long1(value),
    };

    private PickleBuilder Ints(long[] values)
    {
        foreach (long v in values)
        {
            Int64(v);
        }
        return this;
    }

    private static byte[] LongDigits(BigInteger value) => value.IsZero ? [] : value.ToByteArray(isUnsigned: false, isBigEndian: false);
}
