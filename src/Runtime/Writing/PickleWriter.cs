using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using StateDict.Pickle;

namespace StateDict.Writing;

/// <summary>
/// Emits a protocol 2 pickle opcode by opcode, the way CPython's pickler does for what <c>torch.save</c> writes:
/// every string, non-empty tuple, dict, global and reduce result is memoized (<c>BINPUT</c>, or <c>LONG_BINPUT</c>
/// past 255) in creation order, and an object written again is a <c>BINGET</c> of its memo slot. Only opcodes that
/// <c>torch.load(weights_only=True)</c> accepts are produced.
/// </summary>
internal sealed class PickleWriter
{
    /// <summary>CPython's pickler writes SETITEMS and APPENDS in batches of this many items.</summary>
    public const int BatchSize = 1000;

    private readonly System.Buffers.ArrayBufferWriter<byte> _out = new(4096);
    private readonly Dictionary<object, int> _memo = [];

    /// <summary>The pickle so far.</summary>
    public ReadOnlySpan<byte> Bytes => _out.WrittenSpan;

    public byte[] ToArray() => _out.WrittenSpan.ToArray();

    public void Proto() => Write([(byte)PickleOpcode.Proto, 2]);

    public void Stop() => Op(PickleOpcode.Stop);

    public void Mark() => Op(PickleOpcode.Mark);

    public void None() => Op(PickleOpcode.None);

    public void Bool(bool value) => Op(value ? PickleOpcode.NewTrue : PickleOpcode.NewFalse);

    public void EmptyTuple() => Op(PickleOpcode.EmptyTuple);

    /// <summary>An int as CPython writes it: BININT1, BININT2, BININT, else LONG1 (LONG4 beyond 255 bytes).</summary>
    public void Int(long value)
    {
        Span<byte> buffer = stackalloc byte[5];
        if (value is >= 0 and <= 0xFF)
        {
            buffer[0] = (byte)PickleOpcode.BinInt1;
            buffer[1] = (byte)value;
            Write(buffer[..2]);
        }
        else if (value is >= 0 and <= 0xFFFF)
        {
            buffer[0] = (byte)PickleOpcode.BinInt2;
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[1..], (ushort)value);
            Write(buffer[..3]);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            buffer[0] = (byte)PickleOpcode.BinInt;
            BinaryPrimitives.WriteInt32LittleEndian(buffer[1..], (int)value);
            Write(buffer);
        }
        else
        {
            Long(value);
        }
    }

    public void Int(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue)
        {
            Int((long)value);
        }
        else
        {
            Long(value);
        }
    }

    /// <summary>A float: BINFLOAT, an IEEE 754 double, big-endian.</summary>
    public void Float(double value)
    {
        Span<byte> buffer = stackalloc byte[9];
        buffer[0] = (byte)PickleOpcode.BinFloat;
        BinaryPrimitives.WriteDoubleBigEndian(buffer[1..], value);
        Write(buffer);
    }

    /// <summary>
    /// A str: BINUNICODE, memoized. When <paramref name="identity"/> names an object already written, a BINGET of it
    /// instead (CPython memoizes by object identity: a constant like <c>'storage'</c> is written once); without one,
    /// a new string object, except for CPython's shared one-character strings.
    /// </summary>
    public void String(string value, object? identity = null)
    {
        if (identity is null && (value.Length == 0 || (value.Length == 1 && value[0] < 128)))
        {
            // CPython keeps one object for '' and for each one-character ASCII string (what literals and the
            // unpickler give): however often such a key or value occurs, it is one object, written once. torch's
            // storage keys are str(n), fresh objects: those come with their own identity.
            identity = new SingletonString(value);
        }
        if (identity is not null && TryGet(identity))
        {
            return;
        }
        bool surrogates = value.AsSpan().IndexOfAnyInRange('\ud800', '\udfff') >= 0;
        int length = surrogates ? SurrogatePassLength(value) : Encoding.UTF8.GetByteCount(value);
        Span<byte> header = stackalloc byte[5];
        header[0] = (byte)PickleOpcode.BinUnicode;
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], (uint)length);
        Write(header);
        var bytes = length <= 1024 ? stackalloc byte[length] : new byte[length];
        if (surrogates)
        {
            SurrogatePassBytes(value, bytes);
        }
        else
        {
            Encoding.UTF8.GetBytes(value, bytes);
        }
        Write(bytes);
        Put(identity ?? new object());
    }

    // UTF-8 as CPython's pickle writes str ('surrogatepass'): a lone surrogate becomes its own 3-byte sequence
    // (ED A0 80 for U+D800) instead of U+FFFD, so strings read with lone surrogates are written back unchanged.
    private static int SurrogatePassLength(string value) => SurrogatePassBytes(value, default);

    private static int SurrogatePassBytes(string value, Span<byte> destination)
    {
        int at = 0;
        for (int i = 0; i < value.Length; i++)
        {
            bool pair = char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
            int count = pair ? Encoding.UTF8.GetByteCount(value.AsSpan(i, 2)) : char.IsSurrogate(value[i]) ? 3 : Encoding.UTF8.GetByteCount(value.AsSpan(i, 1));
            if (!destination.IsEmpty)
            {
                if (!pair && char.IsSurrogate(value[i]))
                {
                    destination[at] = 0xED;
                    destination[at + 1] = (byte)(0x80 | ((value[i] >> 6) & 0x3F));
                    destination[at + 2] = (byte)(0x80 | (value[i] & 0x3F));
                }
                else
                {
                    Encoding.UTF8.GetBytes(value.AsSpan(i, pair ? 2 : 1), destination[at..]);
                }
            }
            at += count;
            i += pair ? 1 : 0;
        }
        return at;
    }

    /// <summary><c>GLOBAL 'module name'</c>, memoized; a BINGET when written before.</summary>
    public void Global(string module, string name)
    {
        var identity = new GlobalKey(module, name);
        if (TryGet(identity))
        {
            return;
        }
        Op(PickleOpcode.Global);
        Write(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));
        Put(identity);
    }

    /// <summary>Starts a tuple of <paramref name="count"/> items (a MARK when it needs one).</summary>
    public void BeginTuple(int count)
    {
        if (count > 3)
        {
            Mark();
        }
    }

    /// <summary>Ends a tuple begun by <see cref="BeginTuple"/>: EMPTY_TUPLE, TUPLE1-3 or TUPLE, then memoized (unless empty).</summary>
    public void EndTuple(int count)
    {
        switch (count)
        {
            case 0: EmptyTuple(); return;
            case 1: Op(PickleOpcode.Tuple1); break;
            case 2: Op(PickleOpcode.Tuple2); break;
            case 3: Op(PickleOpcode.Tuple3); break;
            default: Op(PickleOpcode.Tuple); break;
        }
        Put(new object());
    }

    /// <summary>A tuple of ints (sizes, strides), as <c>tuple(t.size())</c> pickles.</summary>
    public void IntTuple(IReadOnlyList<long> items)
    {
        BeginTuple(items.Count);
        foreach (long item in items)
        {
            Int(item);
        }
        EndTuple(items.Count);
    }

    public void EmptyDict()
    {
        Op(PickleOpcode.EmptyDict);
        Put(new object());
    }

    /// <summary>Writes key/value pairs onto the dict or OrderedDict on the stack as CPython batches them.</summary>
    public void SetItems<T>(IReadOnlyList<T> items, Action<T> writePair)
    {
        for (int start = 0; start < items.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, items.Count - start);
            if (count == 1)
            {
                writePair(items[start]);
                Op(PickleOpcode.SetItem);
                continue;
            }
            Mark();
            for (int i = start; i < start + count; i++)
            {
                writePair(items[i]);
            }
            Op(PickleOpcode.SetItems);
        }
    }

    /// <summary>REDUCE, then memoizes the result under <paramref name="identity"/> (a fresh object when null).</summary>
    public void Reduce(object? identity = null)
    {
        Op(PickleOpcode.Reduce);
        Put(identity ?? new object());
    }

    public void BinPersId() => Op(PickleOpcode.BinPersId);

    /// <summary>Writes a BINGET of the object memoized under <paramref name="identity"/>, if it was; says whether it did.</summary>
    public bool TryGet(object identity)
    {
        if (!_memo.TryGetValue(identity, out int index))
        {
            return false;
        }
        Span<byte> buffer = stackalloc byte[5];
        if (index < 256)
        {
            buffer[0] = (byte)PickleOpcode.BinGet;
            buffer[1] = (byte)index;
            Write(buffer[..2]);
        }
        else
        {
            buffer[0] = (byte)PickleOpcode.LongBinGet;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[1..], (uint)index);
            Write(buffer);
        }
        return true;
    }

    private void Put(object identity)
    {
        int index = _memo.Count;
        _memo[identity] = index;
        Span<byte> buffer = stackalloc byte[5];
        if (index < 256)
        {
            buffer[0] = (byte)PickleOpcode.BinPut;
            buffer[1] = (byte)index;
            Write(buffer[..2]);
        }
        else
        {
            buffer[0] = (byte)PickleOpcode.LongBinPut;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[1..], (uint)index);
            Write(buffer);
        }
    }

    /// <summary>LONG1 (LONG4 past 255 bytes): minimal two's complement, little-endian, like pickle's encode_long.</summary>
    private void Long(BigInteger value)
    {
        byte[] bytes = value.ToByteArray();
        if (bytes.Length < 256)
        {
            Write([(byte)PickleOpcode.Long1, (byte)bytes.Length]);
        }
        else
        {
            Span<byte> header = stackalloc byte[5];
            header[0] = (byte)PickleOpcode.Long4;
            BinaryPrimitives.WriteInt32LittleEndian(header[1..], bytes.Length);
            Write(header);
        }
        Write(bytes);
    }

    private void Op(PickleOpcode opcode) => Write([(byte)opcode]);

    private void Write(ReadOnlySpan<byte> bytes) => System.Buffers.BuffersExtensions.Write(_out, bytes);

    private sealed record GlobalKey(string Module, string Name);

    private sealed record SingletonString(string Value);
}
