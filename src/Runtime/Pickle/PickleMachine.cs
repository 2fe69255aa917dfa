using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace StateDict.Pickle;

/// <summary>The outcome of running one pickle: its value, every global it names, and where it stopped.</summary>
internal sealed record PickleResult(
    object Root,
    IReadOnlyList<PyGlobal> Globals,
    IReadOnlyList<PyPersistentId> PersistentIds,
    int EndPosition,
    int Protocol,
    IReadOnlyDictionary<string, int> Calls)
{
    /// <summary>
    /// Every REDUCE of <c>torch.storage._load_from_bytes</c>, in order, reachable from the root or not (a call whose
    /// result is popped still runs in Python): the scanner checks each one's payload.
    /// </summary>
    public IReadOnlyList<PyCall> PayloadCalls { get; init; } = [];
}

/// <summary>
/// A pickle interpreter that only ever builds data. GLOBAL is a name; REDUCE, NEWOBJ, INST, OBJ and BUILD
/// record what would have been called (<see cref="PyCall"/>) and call nothing. Memo reads share references,
/// never copy, so memo and DUP tricks cost linear time. Every count is bounded by <see cref="CheckpointLimits"/>.
/// </summary>
internal sealed class PickleMachine
{
    private readonly CheckpointLimits _limits;
    private readonly List<object> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Memo _memo = new();
    private readonly List<PyGlobal> _globals = [];
    private readonly HashSet<string> _globalNames = [];
    private readonly List<PyPersistentId> _persistentIds = [];
    private readonly TupleSlab _tuples = new();
    // Counted per opcode in the hot loop (an array slot, not a sorted-dictionary update per call); named at STOP.
    private readonly int[] _callCounts = new int[CallOpcodes.Length];
    private readonly List<PyCall> _payloadCalls = [];
    private int _protocol;
    private CheckpointException? _deferred;

    private PickleMachine(CheckpointLimits limits) => _limits = limits;

    /// <summary>Runs the pickle that starts at the beginning of <paramref name="data"/> up to its STOP.</summary>
    /// <param name="data">The pickle (and possibly bytes after it).</param>
    /// <param name="source">The file and part, for messages.</param>
    /// <param name="limits">The budgets.</param>
    /// <param name="globalsSeen">Receives every global Python would have imported before the pickle failed (see
    /// <see cref="ImportedBeforeFailure"/>), so a scanner still knows them if the pickle turns out corrupt.</param>
    /// <param name="refused">When the pickle turns out unreadable after naming a global this says is not allowed, the
    /// failure is reported as <see cref="CheckpointUnsafeException"/> naming it: Python imports a global when it
    /// reaches it, before it finds the damage. Null to report the failure as it is.</param>
    public static PickleResult Run(ReadOnlySpan<byte> data, PickleSource source, CheckpointLimits limits, List<PyGlobal>? globalsSeen = null, Func<PyGlobal, bool>? refused = null)
    {
        if (data.Length > limits.MaxPickleBytes)
        {
            data = data[..(int)Math.Min(data.Length, limits.MaxPickleBytes)];
        }
        var reader = new PickleReader(data, source);
        var machine = new PickleMachine(limits);
        List<PyGlobal>? imported = null;
        try
        {
            return machine.Execute(ref reader);
        }
        catch (CheckpointException e) when (e is not CheckpointUnsafeException)
        {
            imported = ImportedBeforeFailure(machine._globals, reader.FrameDesyncAt >= 0 ? data : [], source, limits);
            var failure = machine._deferred ?? e; // the first refusal, when a budget was passed before the end
            if (refused is not null && imported.Where(refused).ToList() is { Count: > 0 } forbidden)
            {
                throw UnsafeThenCorrupt(source, forbidden, failure);
            }
            if (failure != e)
            {
                throw failure;
            }
            throw;
        }
        finally
        {
            globalsSeen?.AddRange(imported ?? machine._globals);
        }
    }

    /// <summary>
    /// The globals Python would have imported from a pickle this reader refused: those named before the failure, plus,
    /// when the failure is a read across a frame end (<paramref name="desynced"/> not empty), every global a CPython file
    /// object would reach reading the bytes its own way (buffered file, <c>io.BytesIO</c> on 3.8+ and on 3.7) up to its
    /// own failure or STOP.
    /// </summary>
    private static List<PyGlobal> ImportedBeforeFailure(List<PyGlobal> named, ReadOnlySpan<byte> desynced, PickleSource source, CheckpointLimits limits)
    {
        var all = new List<PyGlobal>(named);
        if (desynced.IsEmpty)
        {
            return all;
        }
        var names = named.Select(g => g.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var frames in (ReadOnlySpan<FrameReading>)[FrameReading.Contiguous, FrameReading.DropFrameTail, FrameReading.DropFrameTailUnderBytesToo])
        {
            var reader = new PickleReader(desynced, source, frames);
            var machine = new PickleMachine(limits);
            try
            {
                machine.Execute(ref reader);
            }
            catch (CheckpointUnsafeException)
            {
                all.Add(new PyGlobal("copyreg", "_extension_registry", reader.Position)); // EXT1/2/4 (see Step)
            }
            catch (CheckpointException)
            {
                // Where this reading fails, Python's fails too; what it named until then is what counts.
            }
            all.AddRange(machine._globals.Where(g => names.Add(g.FullName)));
        }
        return all;
    }

    /// <summary>The refusal of a pickle that names <paramref name="forbidden"/> and then fails with <paramref name="failure"/>.</summary>
    public static CheckpointUnsafeException UnsafeThenCorrupt(PickleSource source, List<PyGlobal> forbidden, CheckpointException failure)
    {
        string listed = string.Join(", ", forbidden.Select(g => $"{g.FullName} (byte {g.Offset})"));
        return new CheckpointUnsafeException(source.FilePath,
            $"refused: {source.Part} references {(forbidden.Count == 1 ? "a global" : "globals")} outside the allow-list: {listed}, " +
            $"and is unreadable after {(forbidden.Count == 1 ? "it" : "them")} ({failure.Problem}). Python's unpickler imports " +
            $"(and may call) a global as soon as it reaches it, before it finds the damage; StateDict executed nothing.",
            forbidden.Select(g => g.FullName).ToList());
    }

    // Hot for large pickles (a 20,000-tensor data.pkl is ~2 MB): compile it fully optimized from the first call.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private PickleResult Execute(ref PickleReader r)
    {
        while (true)
        {
            int at = r.Position;
            if (r.Remaining == 0)
            {
                throw r.Source.Corrupt(at, at == 0 ? "the pickle is empty" : "the pickle ends without a STOP opcode (truncated?)");
            }
            var op = (PickleOpcode)r.ReadByte();
            if (op == PickleOpcode.Stop)
            {
                // Like CPython, STOP pops from the current MARK frame: items below an open MARK are not the result.
                if (ItemsSinceMark == 0)
                {
                    throw r.Source.Corrupt(at, _stack.Count == 0 ? "STOP with an empty stack" : "STOP with nothing on the stack since the last MARK");
                }
                r.EndPickle(at);
                if (_deferred is not null)
                {
                    throw _deferred;
                }
                return new PickleResult(_stack[^1], _globals, _persistentIds, r.Position, _protocol, Calls()) { PayloadCalls = _payloadCalls };
            }
            if (CallIndex(op) is int call and >= 0)
            {
                // What Python's unpickler would have called here; recorded for scanners, never performed.
                _callCounts[call]++;
            }
            Step(op, at, ref r);
            if (_stack.Count > _limits.MaxStackDepth)
            {
                throw r.Source.Corrupt(at, $"the stack exceeds the budget of {_limits.MaxStackDepth} items (CheckpointLimits.MaxStackDepth)");
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Step(PickleOpcode op, int at, ref PickleReader r)
    {
        var src = r.Source;
        switch (op)
        {
            case PickleOpcode.Proto:
                _protocol = r.ReadByte();
                if (_protocol > 5)
                {
                    throw src.Unsupported(at, $"pickle protocol {_protocol} (this reader knows 0 to 5)");
                }
                break;
            case PickleOpcode.Frame:
                r.BeginFrame(at, r.ReadUInt64());
                break;

            // Marks and stack manipulation
            case PickleOpcode.Mark:
                if (_marks.Count >= _limits.MaxMarkDepth)
                {
                    Defer(src.Corrupt(at, $"more than {_limits.MaxMarkDepth} nested MARKs (CheckpointLimits.MaxMarkDepth)")); // 4 bytes a MARK
                }
                _marks.Add(_stack.Count);
                break;
            case PickleOpcode.Pop:
                if (ItemsSinceMark > 0)
                {
                    _stack.RemoveAt(_stack.Count - 1);
                }
                else
                {
                    PopMark(at, src);
                }
                break;
            case PickleOpcode.Dup:
                Push(Peek(at, src));
                break;

            // Scalars
            case PickleOpcode.None: Push(PyNone.Value); break;
            case PickleOpcode.NewTrue: Push(PyValue.True); break;
            case PickleOpcode.NewFalse: Push(PyValue.False); break;
            case PickleOpcode.BinInt: Push(PyValue.Int(r.ReadInt32())); break;
            case PickleOpcode.BinInt1: Push(PyValue.Int(r.ReadByte())); break;
            case PickleOpcode.BinInt2: Push(PyValue.Int(r.ReadUInt16())); break;
            case PickleOpcode.Long1: Push(ReadLong(ref r, at, r.ReadByte())); break;
            case PickleOpcode.BinFloat: Push(r.ReadFloat64BigEndian()); break;

            // Strings and bytes
            case PickleOpcode.BinUnicode: Push(PickleText.Utf8SurrogatePass(r.ReadBytes(r.ReadLength(4, "BINUNICODE"), "BINUNICODE"), at, src)); break;
            case PickleOpcode.ShortBinUnicode: Push(PickleText.Utf8SurrogatePass(r.ReadBytes(r.ReadLength(1, "SHORT_BINUNICODE"), "SHORT_BINUNICODE"), at, src)); break;
            case PickleOpcode.BinUnicode8: Push(PickleText.Utf8SurrogatePass(r.ReadBytes(r.ReadLength(8, "BINUNICODE8"), "BINUNICODE8"), at, src)); break;

            // Containers
            case PickleOpcode.EmptyTuple: Push(PyTuple.Empty); break;
            case PickleOpcode.Tuple1: PushTupleOfTop(1, at, src); break;
            case PickleOpcode.Tuple2: PushTupleOfTop(2, at, src); break;
            case PickleOpcode.Tuple3: PushTupleOfTop(3, at, src); break;
            case PickleOpcode.Tuple:
                {
                    int mark = PopMarkIndex(at, src);
                    var tuple = _tuples.Tuple(CollectionsMarshal.AsSpan(_stack)[mark..]);
                    _stack.RemoveRange(mark, _stack.Count - mark);
                    Push(tuple);
                    break;
                }
            case PickleOpcode.EmptyList: Push(new PyList()); break;
            case PickleOpcode.EmptyDict: Push(new PyDict()); break;
            case PickleOpcode.Append: { var item = Pop(at, src); Append(Peek(at, src), [item], at, src); break; }
            // CPython's APPENDS, SETITEMS and ADDITEMS with nothing since their MARK only check that a target exists.
            case PickleOpcode.Appends: { var items = PopMark(at, src); var target = Peek(at, src); if (items.Length > 0) { Append(target, items, at, src); } break; }
            case PickleOpcode.SetItem:
                {
                    var value = Pop(at, src);
                    var key = Pop(at, src);
                    SetItems(Peek(at, src), [key, value], "SETITEM", at, src);
                    break;
                }
            case PickleOpcode.SetItems: { var items = PopMark(at, src); var target = Peek(at, src); if (items.Length > 0) { SetItems(target, items, "SETITEMS", at, src); } break; }

            // Memo
            case PickleOpcode.BinPut: Put(r.ReadByte(), at, src); break;
            case PickleOpcode.LongBinPut: Put(r.ReadUInt32(), at, src); break;
            case PickleOpcode.Memoize: Put(_memo.Count, at, src); break;
            case PickleOpcode.BinGet: Get(r.ReadByte(), at, src); break;
            case PickleOpcode.LongBinGet: Get(r.ReadUInt32(), at, src); break;

            // Names and calls: recorded, never performed
            case PickleOpcode.Global:
                {
                    string module = PickleText.GlobalLine(r.ReadLine("GLOBAL module"), "GLOBAL module", at, src);
                    string name = PickleText.GlobalLine(r.ReadLine("GLOBAL name"), "GLOBAL name", at, src);
                    Push(Global(module, name, at));
                    break;
                }
            case PickleOpcode.StackGlobal:
                {
                    var name = Pop(at, src);
                    var module = Pop(at, src);
                    if (module is not string m || name is not string n)
                    {
                        throw src.Corrupt(at, $"STACK_GLOBAL needs two strings, got {PyValue.TypeName(module)} and {PyValue.TypeName(name)}");
                    }
                    Push(Global(m, n, at));
                    break;
                }
            case PickleOpcode.Reduce:
                {
                    var args = Pop(at, src);
                    var callable = Callable(Pop(at, src), "REDUCE", at, src);
                    Push(Track(new PyCall(callable, AsArgs(args, "REDUCE", at, src), CallKind.Reduce, at)));
                    break;
                }
            case PickleOpcode.NewObj:
                {
                    var args = Pop(at, src);
                    var cls = NewObjClass(Pop(at, src), "NEWOBJ", at, src);
                    Push(new PyCall(cls, AsArgs(args, "NEWOBJ", at, src), CallKind.NewObj, at));
                    break;
                }
            case PickleOpcode.Build:
                {
                    var state = Pop(at, src);
                    var target = Peek(at, src);
                    if (target is PyCall call)
                    {
                        call.States.Add(state);
                    }
                    else if (!PythonObjects.IsPlainData(target))
                    {
                        Unmodelled(target, "BUILD", "a __setstate__ method", at, src);
                    }
                    else if (state is not (PyNone or PyTuple { Items: [PyNone, PyDict { Items.Count: 0 }] }))
                    {
                        // CPython's default __setstate__ does nothing with None or (None, {}); other states need a __dict__.
                        throw src.Corrupt(at, $"BUILD on a {PyValue.TypeName(target)}, which has no __dict__ for its state");
                    }
                    break;
                }
            case PickleOpcode.BinPersId: Push(PersistentId(Pop(at, src), at)); break;

            default:
                StepRare(op, at, ref r);
                break;
        }
    }

    /// <summary>
    /// The opcodes torch.save's pickles do not use (text forms, bytes, sets, INST/OBJ, NEWOBJ_EX, ...), apart from the
    /// hot loop: <see cref="Step"/> is compiled fully optimized on first use, and every opcode in it adds to that cost.
    /// </summary>
    private void StepRare(PickleOpcode op, int at, ref PickleReader r)
    {
        var src = r.Source;
        switch (op)
        {
            case PickleOpcode.PopMark:
                PopMark(at, src);
                break;
            case PickleOpcode.Long4:
                int width = r.ReadInt32();
                if (width < 0)
                {
                    throw src.Corrupt(at, $"LONG4 has negative length {width}");
                }
                Push(ReadLong(ref r, at, width));
                break;
            case PickleOpcode.Int: PushTextInteger(PickleNumbers.Int(NonEmptyLine(ref r, "INT"), _limits.MaxIntegerBytes), at, src); break;
            case PickleOpcode.Long: PushTextInteger(PickleNumbers.Long(NonEmptyLine(ref r, "LONG"), _limits.MaxIntegerBytes), at, src); break;
            case PickleOpcode.Float: Push(PickleNumbers.Float(NonEmptyLine(ref r, "FLOAT")) ?? throw src.Corrupt(at, "could not convert the FLOAT text to float")); break;
            case PickleOpcode.Unicode: Push(PickleText.RawUnicodeEscape(r.ReadLine("UNICODE"), at, src)); break;
            case PickleOpcode.BinString: Push(PickleText.Utf8Strict(r.ReadBytes(r.ReadLength(4, "BINSTRING"), "BINSTRING"), at, src)); break;
            case PickleOpcode.ShortBinString: Push(PickleText.Utf8Strict(r.ReadBytes(r.ReadLength(1, "SHORT_BINSTRING"), "SHORT_BINSTRING"), at, src)); break;
            case PickleOpcode.String: Push(PickleText.QuotedString(r.ReadLine("STRING"), at, src)); break;
            case PickleOpcode.BinBytes: Push(new PyBytes(r.ReadBytesPayload(r.ReadLength(4, "BINBYTES"), "BINBYTES").ToArray(), mutable: false)); break;
            case PickleOpcode.ShortBinBytes: Push(new PyBytes(r.ReadBytesPayload(r.ReadLength(1, "SHORT_BINBYTES"), "SHORT_BINBYTES").ToArray(), mutable: false)); break;
            case PickleOpcode.BinBytes8: Push(new PyBytes(r.ReadBytesPayload(r.ReadLength(8, "BINBYTES8"), "BINBYTES8").ToArray(), mutable: false)); break;
            case PickleOpcode.ByteArray8: Push(new PyBytes(r.ReadBytesPayload(r.ReadLength(8, "BYTEARRAY8"), "BYTEARRAY8").ToArray(), mutable: true)); break;
            case PickleOpcode.List: { var list = new PyList(); list.Items.AddRange(PopMark(at, src)); Push(list); break; }
            case PickleOpcode.Dict: { var dict = new PyDict(); SetItems(dict, PopMark(at, src), "DICT", at, src); Push(dict); break; }
            case PickleOpcode.EmptySet: Push(new PySet(frozen: false)); break;
            case PickleOpcode.FrozenSet: { var set = new PySet(frozen: true); AddAll(set, Hashable(PopMark(at, src), "FROZENSET", at, src), "FROZENSET", at, src); Push(set); break; }
            case PickleOpcode.AddItems:
                {
                    var items = PopMark(at, src);
                    if (items.Length == 0)
                    {
                        Peek(at, src);
                        break;
                    }
                    var target = Peek(at, src);
                    if (target is PySet { Frozen: false } set)
                    {
                        AddAll(set, Hashable(items, "ADDITEMS", at, src), "ADDITEMS", at, src);
                    }
                    else
                    {
                        Unmodelled(target, "ADDITEMS", "an add method", at, src);
                    }
                    break;
                }
            case PickleOpcode.Put: Put(TextMemoIndex(ref r, "PUT", at) is >= 0 and var put ? put : throw src.Corrupt(at, "negative PUT argument"), at, src); break;
            case PickleOpcode.Get: Get(TextMemoIndex(ref r, "GET", at), at, src); break;
            case PickleOpcode.NewObjEx:
                {
                    var kwargs = Pop(at, src);
                    var args = Pop(at, src);
                    var cls = NewObjClass(Pop(at, src), "NEWOBJ_EX", at, src);
                    var call = new PyCall(cls, AsArgs(args, "NEWOBJ_EX", at, src), CallKind.NewObj, at)
                    {
                        Kwargs = kwargs as PyDict ?? throw src.Corrupt(at, $"NEWOBJ_EX keyword arguments must be a dict, got {PyValue.TypeName(kwargs)}"),
                    };
                    Push(call);
                    break;
                }
            case PickleOpcode.Inst:
                {
                    // CPython's load_inst finds its MARK before it reads the names.
                    if (_marks.Count == 0)
                    {
                        throw src.Corrupt(at, "INST without a MARK");
                    }
                    string module = PickleText.Ascii(NonEmptyLine(ref r, "INST module"), at, src);
                    string name = PickleText.Ascii(NonEmptyLine(ref r, "INST name"), at, src);
                    var cls = Global(module, name, at);
                    Push(Track(new PyCall(cls, new PyTuple(PopMark(at, src)), CallKind.Instantiate, at)));
                    break;
                }
            case PickleOpcode.Obj:
                {
                    var items = PopMark(at, src);
                    if (items.Length == 0)
                    {
                        throw src.Corrupt(at, "OBJ without a class");
                    }
                    Push(Track(new PyCall(Callable(items[0], "OBJ", at, src), new PyTuple(items[1..]), CallKind.Instantiate, at)));
                    break;
                }
            case PickleOpcode.PersId: Push(PersistentId(PickleText.Ascii(r.ReadLine("PERSID"), at, src), at)); break;
            case PickleOpcode.Ext1:
            case PickleOpcode.Ext2:
            case PickleOpcode.Ext4:
                throw new CheckpointUnsafeException(src.FilePath,
                    $"refused: {src.Part} byte {at}: {op.ToString().ToUpperInvariant()} loads a global from Python's copyreg extension registry, which names code this reader will not trust",
                    ["copyreg._extension_registry"]);
            case PickleOpcode.NextBuffer:
                // torch.load passes no buffers: CPython stops here too.
                throw src.Unsupported(at, "out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not part of any checkpoint format");
            case PickleOpcode.ReadOnlyBuffer:
                ReadOnlyBuffer(Peek(at, src), at, src);
                break;
            default:
                throw src.Corrupt(at, $"unknown opcode 0x{(byte)op:x2}");
        }
    }

    /// <summary>The opcodes that call something in Python, by the names scanners report them under.</summary>
    private static readonly string[] CallOpcodes = ["REDUCE", "NEWOBJ", "NEWOBJ_EX", "INST", "OBJ", "BUILD"];

    private static int CallIndex(PickleOpcode op) => op switch
    {
        PickleOpcode.Reduce => 0,
        PickleOpcode.NewObj => 1,
        PickleOpcode.NewObjEx => 2,
        PickleOpcode.Inst => 3,
        PickleOpcode.Obj => 4,
        PickleOpcode.Build => 5,
        _ => -1,
    };

    /// <summary>How often each calling opcode ran, by name (those that ran), in name order.</summary>
    private SortedDictionary<string, int> Calls()
    {
        var calls = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < CallOpcodes.Length; i++)
        {
            if (_callCounts[i] > 0)
            {
                calls.Add(CallOpcodes[i], _callCounts[i]);
            }
        }
        return calls;
    }

    /// <summary>Notes a call of <c>torch.storage._load_from_bytes</c> (REDUCE, INST, OBJ: each calls it in Python).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PyCall Track(PyCall call)
    {
        if (call.Callable is PyGlobal { Module: "torch.storage", Name: "_load_from_bytes" })
        {
            _payloadCalls.Add(call);
        }
        return call;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PyPersistentId PersistentId(object id, int at)
    {
        var pid = new PyPersistentId(id, at);
        _persistentIds.Add(pid);
        return pid;
    }

    /// <summary>A text argument that CPython requires to be more than its newline ("pickle data was truncated").</summary>
    private static ReadOnlySpan<byte> NonEmptyLine(ref PickleReader r, string what)
    {
        int at = r.Position;
        var line = r.ReadLine(what);
        return line.IsEmpty ? throw r.Source.Corrupt(at, $"{what} is an empty line") : line;
    }

    private static long TextMemoIndex(ref PickleReader r, string what, int at) =>
        PickleNumbers.MemoIndex(NonEmptyLine(ref r, what)) ?? throw r.Source.Corrupt(at, $"malformed {what} index");

    /// <summary>
    /// An INT or LONG text value. One CPython reads but our budget does not is pushed as 0 and the refusal deferred
    /// (<see cref="Defer"/>): Python reads on, so the globals after it must still be named.
    /// </summary>
    private void PushTextInteger(PickleNumbers.Parsed? parsed, int at, PickleSource src)
    {
        if (parsed is not { } p)
        {
            throw src.Corrupt(at, "could not convert the integer text to int");
        }
        if (p.OverBudgetBytes > 0)
        {
            Defer(IntegerOverBudget(src, at, p.OverBudgetBytes));
            Push(PyValue.Int(0));
            return;
        }
        Push(p.Value!);
    }

    private CheckpointCorruptException IntegerOverBudget(PickleSource src, int at, int width) =>
        src.Corrupt(at, $"integer of {width} bytes exceeds the budget of {_limits.MaxIntegerBytes} (CheckpointLimits.MaxIntegerBytes)");

    /// <summary>
    /// Notes a refusal of ours where CPython reads on (a budget): the pickle runs to its end or its first real failure,
    /// naming every global Python would import, and is then refused for the first deferred reason.
    /// </summary>
    private void Defer(CheckpointException refusal) => _deferred ??= refusal;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PyGlobal Global(string module, string name, int at)
    {
        (module, name) = Python2Names.Canonical(module, name);
        var global = new PyGlobal(module, name, at);
        if (_globalNames.Add(global.FullName))
        {
            _globals.Add(global);
        }
        return global;
    }

#pragma warning disable CA1859 // Python ints are long when they fit, BigInteger otherwise.
    private object ReadLong(ref PickleReader r, int at, int width)
    {
        if (width > _limits.MaxIntegerBytes)
        {
            Defer(IntegerOverBudget(r.Source, at, width));
            r.ReadBytes(width, "LONG1/LONG4 digits");
            return PyValue.Int(0);
        }
        var bytes = r.ReadBytes(width, "LONG1/LONG4 digits");
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

#pragma warning restore CA1859

    /// <summary>
    /// What REDUCE/OBJ call or NEWOBJ instantiates: plain data (a str, tuple, dict, ...) is neither callable nor a
    /// class, so CPython raises TypeError there and reads no further.
    /// </summary>
    private static object NotPlainData(object target, string opcode, string problem, int at, PickleSource src) =>
        PythonObjects.IsPlainData(target)
            ? throw src.Corrupt(at, $"{opcode} on a '{PyValue.TypeName(target)}' object, which {problem}")
            : target;

    /// <summary>
    /// READONLY_BUFFER makes the top of the stack a read-only buffer: bytes already is one (nothing changes, as in
    /// CPython); a bytearray would become a read-only memoryview, which the VM does not model, and an object of an
    /// unmodelled class may or may not be a buffer, so on those the VM reads on and refuses at the end; any other plain
    /// data is not a buffer (CPython's TypeError).
    /// </summary>
    private void ReadOnlyBuffer(object top, int at, PickleSource src)
    {
        if (top is PyBytes { Mutable: false })
        {
            return;
        }
        if (PythonObjects.IsPlainData(top) && top is not PyBytes)
        {
            throw src.Corrupt(at, $"READONLY_BUFFER on a {PyValue.TypeName(top)}, which is not a buffer");
        }
        Defer(src.Unsupported(at, $"READONLY_BUFFER on a {PyValue.TypeName(top)} (a read-only memoryview, not part of any checkpoint format)"));
    }

    /// <summary>
    /// What REDUCE and OBJ call: not plain data (CPython's TypeError), and not a persistent id that torch.load makes a
    /// storage (a storage is not callable either; a legacy module id gives a class, which is).
    /// </summary>
    private static object Callable(object target, string opcode, int at, PickleSource src) =>
        NotPlainDataOrStorage(target, opcode, "is not callable", "not callable", at, src);

    /// <summary>
    /// NEWOBJ's class: plain data and storages are refused (CPython: "class argument must be a type"); what a call
    /// returned is a class only if the callable returns classes, which no allow-listed global does, so the VM reads on
    /// (naming every later global) and refuses at the end (<see cref="Defer"/>).
    /// </summary>
    private object NewObjClass(object cls, string opcode, int at, PickleSource src)
    {
        NotPlainDataOrStorage(cls, opcode, "is not a class (CPython: class argument must be a type)", "not a class", at, src);
        if (cls is PyCall)
        {
            Defer(src.Corrupt(at, $"{opcode} on an object a call returned, which is not a class unless that call makes classes"));
        }
        return cls;
    }

    private static object NotPlainDataOrStorage(object target, string opcode, string problem, string storageProblem, int at, PickleSource src)
    {
        NotPlainData(target, opcode, problem, at, src);
        return target is PyPersistentId { NamesClass: false }
            ? throw src.Corrupt(at, $"{opcode} on a persistent id, which torch.load makes a storage: {storageProblem}")
            : target;
    }

    private static PyTuple AsArgs(object args, string opcode, int at, PickleSource src) =>
        args as PyTuple ?? throw src.Corrupt(at, $"{opcode} arguments must be a tuple, got {PyValue.TypeName(args)}");

    private void Append(object target, object[] items, int at, PickleSource src)
    {
        switch (target)
        {
            case PyList list: list.Items.AddRange(items); break;
            case PyCall call: call.Appended.AddRange(items); break;
            default: Unmodelled(target, "APPEND", "an append or extend method", at, src); break;
        }
    }

    /// <summary>SETITEM(S) and DICT: a dict's keys must be hashable, as CPython's <c>PyDict_SetItem</c> requires.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SetItems(object target, object[] items, string opcode, int at, PickleSource src)
    {
        if (items.Length % 2 != 0)
        {
            throw src.Corrupt(at, $"odd number of items ({items.Length}) for key/value pairs");
        }
        if (target is not (PyDict or PyCall))
        {
            Unmodelled(target, opcode, "a __setitem__ method", at, src);
            return;
        }
        for (int i = 0; i < items.Length; i += 2)
        {
            if (!PythonObjects.IsHashable(items[i]))
            {
                var unhashable = src.Corrupt(at, $"{opcode} with an unhashable key (a {PyValue.TypeName(items[i])})");
                if (target is PyDict)
                {
                    throw unhashable; // TypeError in CPython
                }
                Defer(unhashable); // the object's own __setitem__ decides in Python
                return;
            }
            if (target is PyDict dict)
            {
                try
                {
                    dict.Set(items[i], items[i + 1]);
                }
                catch (PythonEquality.TooDeepException e)
                {
                    throw src.Corrupt(at, $"{opcode}: {e.Message}");
                }
            }
            else
            {
                ((PyCall)target).SetItems.Add(new(items[i], items[i + 1]));
            }
        }
    }

    private static void AddAll(PySet set, object[] items, string opcode, int at, PickleSource src)
    {
        try
        {
            foreach (var item in items)
            {
                set.Add(item);
            }
        }
        catch (PythonEquality.TooDeepException e)
        {
            throw src.Corrupt(at, $"{opcode}: {e.Message}");
        }
    }

    private static object[] Hashable(object[] items, string opcode, int at, PickleSource src) =>
        items.FirstOrDefault(i => !PythonObjects.IsHashable(i)) is { } unhashable
            ? throw src.Corrupt(at, $"{opcode} with an unhashable item (a {PyValue.TypeName(unhashable)})")
            : items;

    /// <summary>
    /// An opcode that CPython carries out by calling a method of <paramref name="target"/> (append, __setitem__, add,
    /// __setstate__) where the VM's model has none. Plain data lacks the method (CPython raises, so do we) unless it is
    /// a list or bytearray, whose methods may succeed; on those and on objects of classes the VM does not model, Python
    /// reads on, so the VM does too, naming the globals after it, and refuses at the end (<see cref="Defer"/>).
    /// </summary>
    private void Unmodelled(object target, string opcode, string needs, int at, PickleSource src)
    {
        var refusal = src.Corrupt(at, $"{opcode} on a {PyValue.TypeName(target)}, which needs {needs}");
        if (PythonObjects.IsPlainData(target) && target is not (PyList or PyBytes { Mutable: true }))
        {
            throw refusal;
        }
        Defer(refusal);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Put(long index, int at, PickleSource src)
    {
        if (!_memo.Contains(index) && _memo.Count >= _limits.MaxMemoEntries)
        {
            throw src.Corrupt(at, $"more than {_limits.MaxMemoEntries} memo entries (CheckpointLimits.MaxMemoEntries)");
        }
        _memo.Set(index, Peek(at, src));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Get(long index, int at, PickleSource src)
    {
        if (!_memo.TryGet(index, out var value))
        {
            throw src.Corrupt(at, $"memo slot {index} is read before it is set");
        }
        Push(value);
    }

    private void Push(object value) => _stack.Add(value);

    /// <summary>Items pushed since the last MARK (all of the stack without one): what POP, STOP and the tuple opcodes may take.</summary>
    private int ItemsSinceMark => _stack.Count - (_marks.Count > 0 ? _marks[^1] : 0);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object Peek(int at, PickleSource src)
    {
        if (ItemsSinceMark == 0)
        {
            throw src.Corrupt(at, "stack underflow");
        }
        return _stack[^1];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object Pop(int at, PickleSource src)
    {
        var top = Peek(at, src);
        _stack.RemoveAt(_stack.Count - 1);
        return top;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object[] PopMark(int at, PickleSource src)
    {
        int mark = PopMarkIndex(at, src);
        var items = CollectionsMarshal.AsSpan(_stack)[mark..].ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    /// <summary>Pops the last MARK; returns where its items start on the stack (they stay there for the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int PopMarkIndex(int at, PickleSource src)
    {
        if (_marks.Count == 0)
        {
            throw src.Corrupt(at, "no MARK to pop to");
        }
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        return mark;
    }

    /// <summary>TUPLE1/2/3: the top <paramref name="count"/> items (above the last MARK, as Pop checks) become a tuple.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PushTupleOfTop(int count, int at, PickleSource src)
    {
        if (ItemsSinceMark < count)
        {
            throw src.Corrupt(at, "stack underflow");
        }
        int start = _stack.Count - count;
        var tuple = _tuples.Tuple(CollectionsMarshal.AsSpan(_stack)[start..]);
        _stack.RemoveRange(start, count);
        Push(tuple);
    }
}
