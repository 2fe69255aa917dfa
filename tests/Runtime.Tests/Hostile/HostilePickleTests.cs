using StateDict.Pickle;
using StateDict.Torch;
using StateDict.Tests.Pickle;
using Xunit;
using static StateDict.Tests.Pickle.PickleAssert;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Pickles written to hurt a reader: lying lengths, unknown opcodes, broken stacks and memos, blown budgets,
/// operands of the wrong type, and memo/DUP amplification. Each must fail fast with a
/// <see cref="CheckpointException"/> subclass that names the part and the byte, or (for the amplification
/// tricks) finish in linear time because memo reads share references.
/// </summary>
public class HostilePickleTests
{
    private const long AllocationBudget = 1 << 20;

    // ------------------------------------------------------------------ lying length prefixes

    public static TheoryData<byte, ulong, string> HugeLengths() => new()
    {
        { (byte)PickleOpcode.BinUnicode, uint.MaxValue, "BINUNICODE" },
        { (byte)PickleOpcode.BinBytes, uint.MaxValue, "BINBYTES" },
        { (byte)PickleOpcode.BinString, uint.MaxValue, "BINSTRING" },
        { (byte)PickleOpcode.BinString, 0x80000000, "BINSTRING" },          // a negative int32 in CPython
        { (byte)PickleOpcode.BinUnicode8, 1UL << 63, "BINUNICODE8" },
        { (byte)PickleOpcode.BinUnicode8, uint.MaxValue, "BINUNICODE8" },
        { (byte)PickleOpcode.BinBytes8, 1UL << 63, "BINBYTES8" },
        { (byte)PickleOpcode.BinBytes8, ulong.MaxValue, "BINBYTES8" },
        { (byte)PickleOpcode.ByteArray8, 1UL << 63, "BYTEARRAY8" },
        { (byte)PickleOpcode.ShortBinUnicode, 255, "SHORT_BINUNICODE" },
        { (byte)PickleOpcode.ShortBinBytes, 255, "SHORT_BINBYTES" },
    };

    [Theory]
    [MemberData(nameof(HugeLengths))]
    public void A_length_prefix_beyond_the_data_is_corrupt_and_allocates_nothing_big(byte opcode, ulong declared, string name)
    {
        var data = new PickleBuilder().Proto(4).LengthHeader((PickleOpcode)opcode, declared).Ascii("abcd").Stop().ToArray();

        // The error points at the length field itself (byte 3, right after the opcode).
        var e = AssertAllocatesLittle(() => Fails<CheckpointCorruptException>(data, 3, $"{name} declares {declared} bytes but only 5 remain"));

        Assert.IsType<CheckpointCorruptException>(e);
    }

    [Fact]
    public void A_LONG4_declaring_two_gigabytes_of_digits_is_refused_before_reading()
    {
        var data = new PickleBuilder().Proto(2).Long4Header(int.MaxValue).Ascii("abcd").Stop().ToArray();

        AssertAllocatesLittle(() => Fails<CheckpointCorruptException>(data, 2, "integer of 2147483647 bytes exceeds the budget of 64"));
    }

    [Fact]
    public void A_FRAME_declaring_2_to_the_63_bytes_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(4).Frame(1UL << 63).None().Stop(), 2, $"FRAME declares {1UL << 63} bytes but only 2 remain");
    }

    [Fact]
    public void A_FRAME_declaring_2_to_the_64_minus_1_bytes_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(4).Frame(ulong.MaxValue).None().Stop(), 2, $"FRAME declares {ulong.MaxValue} bytes");
    }

    [Fact]
    public void The_highest_memo_slot_costs_no_memory()
    {
        // CVE-2018-20406: CPython once resized its list-backed memo to LONG_BINPUT's index.
        var data = new PickleBuilder().Proto(2).None().LongBinPut(uint.MaxValue).Pop().LongBinGet(uint.MaxValue).Stop().ToArray();

        var root = AssertAllocatesLittle(() => Run(data).Root);

        Assert.Same(PyNone.Value, root);
    }

    // ------------------------------------------------------------------ opcodes and structure

    [Theory]
    [InlineData(0xFF)]
    [InlineData(0x00)]
    [InlineData(0x99)]
    [InlineData((byte)'z')]
    public void An_unknown_opcode_is_corrupt(byte opcode)
    {
        Corrupt(new PickleBuilder().Proto(2).None().Raw(opcode).Stop(), 3, $"unknown opcode 0x{opcode:x2}");
    }

    [Fact]
    public void Every_byte_that_is_not_an_opcode_is_refused()
    {
        var defined = Enum.GetValues<PickleOpcode>().Select(op => (byte)op).ToHashSet();
        for (int b = 0; b < 256; b++)
        {
            if (!defined.Contains((byte)b))
            {
                Corrupt(new PickleBuilder().Raw((byte)b).Stop(), 0, $"unknown opcode 0x{b:x2}");
            }
        }
    }

    [Fact]
    public void An_empty_pickle_is_corrupt()
    {
        Corrupt(new PickleBuilder(), 0, "the pickle is empty");
    }

    [Fact]
    public void A_pickle_without_STOP_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).EmptyDict().BinUnicode("a").BinInt1(1).SetItem(), 12, "ends without a STOP opcode (truncated?)");
    }

    [Fact]
    public void A_pickle_cut_inside_an_argument_is_corrupt()
    {
        var data = new PickleBuilder().Proto(2).BinInt(0x01020304).Stop().ToArray()[..5];

        Fails<CheckpointCorruptException>(data, 3, "unexpected end of data: a 4-byte argument needs 4 bytes but only 2 remain");
    }

    [Fact]
    public void A_pickle_cut_right_after_an_opcode_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).Op(PickleOpcode.BinInt1), 3, "unexpected end of data: expected an opcode or argument");
    }

    [Fact]
    public void A_text_argument_without_its_newline_is_corrupt()
    {
        Corrupt(new PickleBuilder().Op(PickleOpcode.Int).Ascii("42"), 1, "INT is not terminated by a newline");
    }

    [Fact]
    public void A_global_without_its_name_line_is_corrupt()
    {
        Corrupt(new PickleBuilder().Op(PickleOpcode.Global).Ascii("posix\nsystem"), 7, "GLOBAL name is not terminated by a newline");
    }

    [Fact]
    public void A_pickle_longer_than_the_pickle_budget_is_cut_at_the_budget()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyList().Mark().Repeat(100, p => p.BinInt1(1)).Appends().Stop();

        Corrupt(pickle, 16, "ends without a STOP opcode", CheckpointLimits.Default with { MaxPickleBytes = 16 });
    }

    // ------------------------------------------------------------------ the memo

    [Fact]
    public void BinGet_of_an_unset_slot_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).None().BinPut(0).BinGet(5).Stop(), 5, "memo slot 5 is read before it is set");
    }

    [Fact]
    public void LongBinGet_of_an_unset_slot_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).LongBinGet(uint.MaxValue).Stop(), 2, $"memo slot {uint.MaxValue} is read before it is set");
    }

    [Fact]
    public void Get_of_an_unset_slot_is_corrupt()
    {
        Corrupt(new PickleBuilder().Get(7).Stop(), 0, "memo slot 7 is read before it is set");
    }

    [Fact]
    public void A_memo_slot_popped_from_the_stack_is_still_set_but_an_unset_neighbour_is_not()
    {
        var pickle = new PickleBuilder().Proto(2).None().BinPut(1).Pop().BinGet(1).Pop();
        int at = pickle.Position;

        Corrupt(pickle.BinGet(0).Stop(), at, "memo slot 0 is read before it is set");
    }

    // ------------------------------------------------------------------ stack underflow

    private static readonly Dictionary<string, (PickleBuilder Pickle, int At, string Problem)> Underflows = new()
    {
        ["STOP on an empty stack"] = (new PickleBuilder().Proto(2).Stop(), 2, "STOP with an empty stack"),
        ["STOP right after a MARK"] = (new PickleBuilder().Proto(2).None().Mark().Stop(), 4, "STOP with nothing on the stack since the last MARK"),
        ["POP on an empty stack"] = (new PickleBuilder().Proto(2).Pop().Stop(), 2, "no MARK to pop to"),
        ["DUP on an empty stack"] = (new PickleBuilder().Proto(2).Dup().Stop(), 2, "stack underflow"),
        ["DUP right after a MARK"] = (new PickleBuilder().Proto(2).None().Mark().Dup().Stop(), 4, "stack underflow"),
        ["TUPLE1 on an empty stack"] = (new PickleBuilder().Proto(2).Tuple1().Stop(), 2, "stack underflow"),
        ["TUPLE2 with one item"] = (new PickleBuilder().Proto(2).None().Tuple2().Stop(), 3, "stack underflow"),
        ["TUPLE3 with two items"] = (new PickleBuilder().Proto(2).None().None().Tuple3().Stop(), 4, "stack underflow"),
        ["TUPLE1 reaching below a MARK"] = (new PickleBuilder().Proto(2).None().Mark().Tuple1().Stop(), 4, "stack underflow"),
        ["TUPLE without a MARK"] = (new PickleBuilder().Proto(2).None().Tuple().Stop(), 3, "no MARK to pop to"),
        ["LIST without a MARK"] = (new PickleBuilder().List().Stop(), 0, "no MARK to pop to"),
        ["DICT without a MARK"] = (new PickleBuilder().Dict().Stop(), 0, "no MARK to pop to"),
        ["POP_MARK without a MARK"] = (new PickleBuilder().None().PopMark().Stop(), 1, "no MARK to pop to"),
        ["APPEND with only the item"] = (new PickleBuilder().Proto(2).BinInt1(1).Append().Stop(), 4, "stack underflow"),
        ["APPENDS without a MARK"] = (new PickleBuilder().Proto(2).EmptyList().BinInt1(1).Appends().Stop(), 5, "no MARK to pop to"),
        ["APPENDS with no list below the MARK"] = (new PickleBuilder().Proto(2).Mark().BinInt1(1).Appends().Stop(), 5, "stack underflow"),
        ["SETITEM with only a value"] = (new PickleBuilder().Proto(2).BinInt1(1).SetItem().Stop(), 4, "stack underflow"),
        ["SETITEM with no dict"] = (new PickleBuilder().Proto(2).BinInt1(1).BinInt1(2).SetItem().Stop(), 6, "stack underflow"),
        ["SETITEMS without a MARK"] = (new PickleBuilder().Proto(2).EmptyDict().SetItems().Stop(), 3, "no MARK to pop to"),
        ["ADDITEMS with no set"] = (new PickleBuilder().Proto(4).Mark().AddItems().Stop(), 3, "stack underflow"),
        ["FROZENSET without a MARK"] = (new PickleBuilder().Proto(4).FrozenSet().Stop(), 2, "no MARK to pop to"),
        ["REDUCE with only arguments"] = (new PickleBuilder().Proto(2).EmptyTuple().Reduce().Stop(), 3, "stack underflow"),
        ["NEWOBJ with only arguments"] = (new PickleBuilder().Proto(2).EmptyTuple().NewObj().Stop(), 3, "stack underflow"),
        ["NEWOBJ_EX with two items"] = (new PickleBuilder().Proto(4).EmptyTuple().EmptyDict().NewObjEx().Stop(), 4, "stack underflow"),
        ["INST without a MARK"] = (new PickleBuilder().Inst("m", "C").Stop(), 0, "INST without a MARK"),
        ["OBJ without a MARK"] = (new PickleBuilder().Proto(1).Global("m", "C").Obj().Stop(), 7, "no MARK to pop to"),
        ["BUILD with only a state"] = (new PickleBuilder().Proto(2).EmptyDict().Build().Stop(), 3, "stack underflow"),
        ["STACK_GLOBAL with one string"] = (new PickleBuilder().Proto(4).ShortBinUnicode("os").StackGlobal().Stop(), 6, "stack underflow"),
        ["BINPERSID on an empty stack"] = (new PickleBuilder().Proto(2).BinPersId().Stop(), 2, "stack underflow"),
        ["BINPUT on an empty stack"] = (new PickleBuilder().Proto(2).BinPut(0).Stop(), 2, "stack underflow"),
        ["MEMOIZE right after a MARK"] = (new PickleBuilder().Proto(4).None().Mark().Memoize().Stop(), 4, "stack underflow"),
    };

    public static TheoryData<string> UnderflowCases() => [.. Underflows.Keys];

    [Theory]
    [MemberData(nameof(UnderflowCases))]
    public void Stack_underflow_is_corrupt(string name)
    {
        var (pickle, at, problem) = Underflows[name];

        Corrupt(pickle, at, problem);
    }

    // ------------------------------------------------------------------ budgets

    [Fact]
    public void More_nested_MARKs_than_the_budget_is_corrupt()
    {
        var limits = CheckpointLimits.Default with { MaxMarkDepth = 8 };

        Corrupt(new PickleBuilder().Repeat(9, p => p.Mark()).Stop(), 8, "more than 8 nested MARKs (CheckpointLimits.MaxMarkDepth)", limits);
    }

    [Fact]
    public void MARKs_up_to_the_budget_are_fine()
    {
        var limits = CheckpointLimits.Default with { MaxMarkDepth = 8 };
        var pickle = new PickleBuilder().Repeat(8, p => p.Mark()).Repeat(8, p => p.Tuple()).Stop();

        Assert.IsType<PyTuple>(Run(pickle, limits).Root);
    }

    [Fact]
    public void The_default_MARK_budget_stops_a_mark_flood()
    {
        Corrupt(new PickleBuilder().Repeat(10_001, p => p.Mark()).Stop(), 10_000, "more than 10000 nested MARKs");
    }

    [Fact]
    public void A_stack_deeper_than_the_budget_is_corrupt()
    {
        var limits = CheckpointLimits.Default with { MaxStackDepth = 100 };

        Corrupt(new PickleBuilder().Repeat(101, p => p.None()).Stop(), 100, "the stack exceeds the budget of 100 items (CheckpointLimits.MaxStackDepth)", limits);
    }

    [Fact]
    public void The_default_stack_budget_stops_a_stack_flood()
    {
        Corrupt(new PickleBuilder().Repeat((1 << 20) + 1, p => p.None()).Stop(), 1 << 20, "the stack exceeds the budget of 1048576 items");
    }

    [Fact]
    public void A_stack_full_of_MARKed_items_counts_against_the_stack_budget()
    {
        var limits = CheckpointLimits.Default with { MaxStackDepth = 10 };

        Corrupt(new PickleBuilder().Repeat(11, p => p.Mark().None()).Stop(), 21, "the stack exceeds the budget of 10 items", limits);
    }

    [Fact]
    public void More_memo_entries_than_the_budget_is_corrupt()
    {
        var limits = CheckpointLimits.Default with { MaxMemoEntries = 10 };
        var pickle = new PickleBuilder().Proto(4).None().Repeat(10, p => p.Memoize());
        int at = pickle.Position;

        Corrupt(pickle.Memoize().Stop(), at, "more than 10 memo entries (CheckpointLimits.MaxMemoEntries)", limits);
    }

    [Fact]
    public void Sparse_memo_slots_count_against_the_memo_budget()
    {
        var limits = CheckpointLimits.Default with { MaxMemoEntries = 2 };

        Corrupt(new PickleBuilder().Proto(2).None().LongBinPut(1_000_000).LongBinPut(7).LongBinPut(uint.MaxValue).Stop(), 13, "more than 2 memo entries", limits);
    }

    [Fact]
    public void Rewriting_one_memo_slot_does_not_use_up_the_memo_budget()
    {
        var limits = CheckpointLimits.Default with { MaxMemoEntries = 1 };

        Assert.Same(PyNone.Value, Run(new PickleBuilder().Proto(2).None().Repeat(1000, p => p.BinPut(0)).Stop(), limits).Root);
    }

    [Fact]
    public void A_LONG1_wider_than_the_integer_budget_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).Long1(new byte[65]).Stop(), 2, "integer of 65 bytes exceeds the budget of 64 (CheckpointLimits.MaxIntegerBytes)");
    }

    [Fact]
    public void A_LONG1_as_wide_as_the_integer_budget_is_read()
    {
        var limits = CheckpointLimits.Default with { MaxIntegerBytes = 8 };

        Assert.Equal(-1L, Run(new PickleBuilder().Proto(2).Long1([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).Stop(), limits).Root);
        Corrupt(new PickleBuilder().Proto(2).Long1(new byte[9]).Stop(), 2, "integer of 9 bytes exceeds the budget of 8", limits);
    }

    [Fact]
    public void A_LONG4_wider_than_the_integer_budget_is_corrupt()
    {
        Corrupt(new PickleBuilder().Proto(2).Long4(new byte[1000]).Stop(), 2, "integer of 1000 bytes exceeds the budget of 64");
    }

    [Theory]
    [InlineData((byte)'I')]
    [InlineData((byte)'L')]
    public void Integer_text_with_too_many_digits_is_corrupt(byte opcode)
    {
        var pickle = new PickleBuilder().Op((PickleOpcode)opcode).Ascii(new string('9', 100_000) + "\n").Stop();

        // Python's int() refuses more than 4300 decimal digits (sys.int_info.default_max_str_digits) too.
        Corrupt(pickle, 0, "could not convert the integer text to int");
    }

    [Theory]
    [InlineData("I")]
    [InlineData("L")]
    public void Integer_text_over_the_budget_is_read_on_then_refused(string opcode)
    {
        // 200 digits: CPython reads it (under its 4300-digit limit); our 64-byte budget refuses it, but only after
        // the rest of the pickle has run, so the global after it is named (unsafe, not merely corrupt).
        var overBudget = new PickleBuilder().Op((PickleOpcode)opcode[0]).Ascii(new string('9', 200) + "\n").Pop().Global("os", "system").Stop();
        var hex = new PickleBuilder().Op((PickleOpcode)opcode[0]).Ascii("0x" + new string('f', 200) + "\n").Stop();

        Corrupt(hex, 0, "integer of 100 bytes exceeds the budget of 64");
        var refused = Assert.Throws<CheckpointUnsafeException>(() =>
            PickleMachine.Run(overBudget.ToArray(), Source, CheckpointLimits.Default, refused: g => !AllowList.IsAllowed(g)));
        Assert.Contains("os.system", refused.Message, StringComparison.Ordinal);
        Assert.Contains("exceeds the budget of 64", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unhashable_dict_keys_and_set_items_are_corrupt_like_cpython()
    {
        // CPython: TypeError: unhashable type (found by AFL in the differential lane: a dict used as a dict key).
        Corrupt(new PickleBuilder().Proto(2).EmptyDict().EmptyDict().BinInt1(1).SetItem().Stop(), 6, "SETITEM with an unhashable key (a dict)");
        Corrupt(new PickleBuilder().Proto(2).Mark().EmptyList().Tuple1().BinInt1(1).Dict().Stop(), 7, "DICT with an unhashable key (a tuple)");
        Corrupt(new PickleBuilder().Proto(4).EmptySet().Mark().EmptyList().AddItems().Stop(), 5, "ADDITEMS with an unhashable item (a list)");
        Corrupt(new PickleBuilder().Proto(4).Mark().EmptyDict().FrozenSet().Stop(), 4, "FROZENSET with an unhashable item (a dict)");
        // A tuple of hashable items is a key, however deep.
        var deep = new PickleBuilder().Proto(2).EmptyDict().BinInt1(1);
        for (int i = 0; i < 10_000; i++)
        {
            deep.Tuple1();
        }
        Assert.IsType<PyDict>(Root(deep.BinInt1(2).SetItem().Stop()));
    }

    [Fact]
    public void BUILD_with_no_state_is_a_no_op_on_any_object_as_in_cpython()
    {
        Assert.IsType<PyNone>(Root(new PickleBuilder().Proto(2).None().None().Build().Stop()));
        Assert.IsType<PyList>(Root(new PickleBuilder().Proto(2).EmptyList().None().EmptyDict().Tuple2().Build().Stop()));
    }

    [Fact]
    public void Opcodes_that_call_methods_of_unmodelled_objects_read_on_then_refuse()
    {
        // APPEND/SETITEM/ADDITEMS/BUILD on an object of a class the VM does not model: Python calls that class's method
        // and may read on, so the VM does too (naming os.system after it), then refuses.
        var pickle = new PickleBuilder().Proto(2).Global("m", "C").EmptyTuple().Reduce().Pop()
            .Global("m", "D").BinInt1(1).Append().Pop().Global("os", "system").Stop();

        var refused = Assert.Throws<CheckpointUnsafeException>(() =>
            PickleMachine.Run(pickle.ToArray(), Source, CheckpointLimits.Default, refused: g => !AllowList.IsAllowed(g)));
        Assert.Contains("os.system", refused.Message, StringComparison.Ordinal);
        Assert.Contains("APPEND on a global m.D, which needs an append or extend method", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NEWOBJ_on_what_a_call_returned_is_refused_after_reading_on()
    {
        // Found by AFL: NEWOBJ_EX whose class is an OrderedDict() instance, its result popped. CPython: "NEWOBJ_EX class
        // argument must be a type"; the VM read it as data. Now it reads on (naming os.system) and refuses.
        var pickle = new PickleBuilder().Proto(4).Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .EmptyTuple().EmptyDict().NewObjEx().Pop().Global("os", "system").Stop();

        var refused = Assert.Throws<CheckpointUnsafeException>(() =>
            PickleMachine.Run(pickle.ToArray(), Source, CheckpointLimits.Default, refused: g => !AllowList.IsAllowed(g)));
        Assert.Contains("os.system", refused.Message, StringComparison.Ordinal);
        Assert.Contains("NEWOBJ_EX on an object a call returned", refused.Message, StringComparison.Ordinal);
        var plain = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().EmptyTuple();
        int at = plain.Position;
        Corrupt(plain.NewObj().Stop(), at, "NEWOBJ on an object a call returned");
    }

    [Fact]
    public void Long1_over_the_budget_is_read_on_then_refused()
    {
        var pickle = new PickleBuilder().Proto(2).Op(PickleOpcode.Long1).Raw(65).Raw(new byte[65]).Pop().Global("os", "system").Stop();

        var refused = Assert.Throws<CheckpointUnsafeException>(() =>
            PickleMachine.Run(pickle.ToArray(), Source, CheckpointLimits.Default, refused: g => !AllowList.IsAllowed(g)));
        Assert.Contains("os.system", refused.Message, StringComparison.Ordinal);
        Corrupt(new PickleBuilder().Proto(2).Op(PickleOpcode.Long1).Raw(65).Raw(new byte[65]).Stop(), 2, "integer of 65 bytes exceeds the budget of 64");
    }

    [Fact]
    public void Marks_over_the_budget_are_read_on_then_refused()
    {
        var limits = CheckpointLimits.Default with { MaxMarkDepth = 3 };
        var pickle = new PickleBuilder().Mark().Mark().Mark().Mark().Global("os", "system").Stop();

        var refused = Assert.Throws<CheckpointUnsafeException>(() => PickleMachine.Run(pickle.ToArray(), Source, limits, refused: g => !AllowList.IsAllowed(g)));
        Assert.Contains("os.system", refused.Message, StringComparison.Ordinal);
        Assert.Contains("more than 3 nested MARKs", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integer_text_within_the_budget_is_read()
    {
        var root = Run(new PickleBuilder().Int(new string('9', 150)).Stop()).Root;

        Assert.Equal(System.Numerics.BigInteger.Pow(10, 150) - 1, root);
    }

    // ------------------------------------------------------------------ operands of the wrong type

    [Theory]
    [InlineData("int", "str")]
    [InlineData("str", "None")]
    [InlineData("global os.system", "str")]
    [InlineData("str", "bytes")]
    public void STACK_GLOBAL_with_non_string_operands_is_corrupt(string moduleType, string nameType)
    {
        var pickle = new PickleBuilder().Proto(4);
        Push(pickle, moduleType, "os");
        Push(pickle, nameType, "system");
        int at = pickle.Position;

        Corrupt(pickle.StackGlobal().Stop(), at, $"STACK_GLOBAL needs two strings, got {moduleType} and {nameType}");
    }

    [Fact]
    public void STACK_GLOBAL_with_non_string_operands_names_no_global()
    {
        var pickle = new PickleBuilder().Proto(4).BinInt1(1).ShortBinUnicode("system").StackGlobal().Stop();

        Assert.Throws<CheckpointCorruptException>(() => Run(pickle));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("dict")]
    [InlineData("int")]
    [InlineData("str")]
    [InlineData("None")]
    [InlineData("tuple")]
    [InlineData("global os.system")]
    public void BUILD_on_anything_but_an_instance_is_corrupt(string targetType)
    {
        var pickle = new PickleBuilder().Proto(2);
        Push(pickle, targetType, "x");
        pickle.EmptyDict();
        int at = pickle.Position;

        // Plain data has no __dict__ for a dict state (CPython raises); on an object of another class the VM reads on and
        // refuses at the end, since that class's own __setstate__ would decide.
        Corrupt(pickle.Build().Stop(), at, targetType.StartsWith("global", StringComparison.Ordinal)
            ? $"BUILD on a {targetType}, which needs a __setstate__ method"
            : $"BUILD on a {targetType}, which has no __dict__ for its state");
    }

    [Theory]
    [InlineData("dict")]
    [InlineData("tuple")]
    [InlineData("int")]
    [InlineData("str")]
    [InlineData("set")]
    [InlineData("global builtins.list")]
    public void APPEND_to_anything_but_a_list_is_corrupt(string targetType)
    {
        var pickle = new PickleBuilder().Proto(4);
        Push(pickle, targetType, "x");
        pickle.BinInt1(1);
        int at = pickle.Position;

        Corrupt(pickle.Append().Stop(), at, $"APPEND on a {targetType}, which needs an append or extend method");
    }

    [Theory]
    [InlineData("dict")]
    [InlineData("bytes")]
    public void APPENDS_to_anything_but_a_list_is_corrupt(string targetType)
    {
        var pickle = new PickleBuilder().Proto(4);
        Push(pickle, targetType, "x");
        pickle.Mark().BinInt1(1).BinInt1(2);
        int at = pickle.Position;

        Corrupt(pickle.Appends().Stop(), at, $"APPEND on a {targetType}, which needs an append or extend method");
    }

    [Theory]
    [InlineData("list")]
    [InlineData("tuple")]
    [InlineData("str")]
    [InlineData("None")]
    [InlineData("global collections.OrderedDict")]
    public void SETITEM_on_anything_but_a_dict_is_corrupt(string targetType)
    {
        var pickle = new PickleBuilder().Proto(4);
        Push(pickle, targetType, "x");
        pickle.ShortBinUnicode("k").BinInt1(1);
        int at = pickle.Position;

        Corrupt(pickle.SetItem().Stop(), at, $"SETITEM on a {targetType}, which needs a __setitem__ method");
    }

    [Theory]
    [InlineData("list")]
    [InlineData("int")]
    public void SETITEMS_on_anything_but_a_dict_is_corrupt(string targetType)
    {
        var pickle = new PickleBuilder().Proto(4);
        Push(pickle, targetType, "x");
        pickle.Mark().ShortBinUnicode("k").BinInt1(1);
        int at = pickle.Position;

        Corrupt(pickle.SetItems().Stop(), at, $"SETITEMS on a {targetType}, which needs a __setitem__ method");
    }

    [Theory]
    [InlineData("list")]
    [InlineData("dict")]
    public void ADDITEMS_to_anything_but_a_set_is_corrupt(string targetType)
    {
        var pickle = new PickleBuilder().Proto(4);
        Push(pickle, targetType, "x");
        pickle.Mark().BinInt1(1);
        int at = pickle.Position;

        Corrupt(pickle.AddItems().Stop(), at, $"ADDITEMS on a {targetType}, which needs an add method");
    }

    [Fact]
    public void REDUCE_with_a_dict_for_arguments_is_corrupt()
    {
        var pickle = new PickleBuilder().Proto(2).Global("posix", "system").EmptyDict();
        int at = pickle.Position;

        Corrupt(pickle.Reduce().Stop(), at, "REDUCE arguments must be a tuple, got dict");
    }

    [Fact]
    public void NEWOBJ_EX_with_a_list_for_arguments_is_corrupt()
    {
        var pickle = new PickleBuilder().Proto(4).StackGlobal("m", "C").EmptyList().EmptyDict();
        int at = pickle.Position;

        Corrupt(pickle.NewObjEx().Stop(), at, "NEWOBJ_EX arguments must be a tuple, got list");
    }

    /// <summary>Pushes a value of the Python type <paramref name="type"/> as <see cref="PyValue.TypeName"/> names it.</summary>
    private static void Push(PickleBuilder pickle, string type, string text)
    {
        switch (type)
        {
            case "int": pickle.BinInt1(1); break;
            case "str": pickle.ShortBinUnicode(text); break;
            case "bytes": pickle.ShortBinBytes([1]); break;
            case "None": pickle.None(); break;
            case "list": pickle.EmptyList(); break;
            case "dict": pickle.EmptyDict(); break;
            case "tuple": pickle.EmptyTuple(); break;
            case "set": pickle.EmptySet(); break;
            case var g when g.StartsWith("global ", StringComparison.Ordinal):
                int dot = g.LastIndexOf('.');
                pickle.Global(g["global ".Length..dot], g[(dot + 1)..]);
                break;
            default: throw new ArgumentException(type, nameof(type));
        }
    }

    // ------------------------------------------------------------------ amplification: linear, because memo reads share

    [Fact]
    public void A_memo_bomb_of_100k_self_appends_runs_in_linear_time()
    {
        // l = []; then 100,000 times: BINGET l, DUP, APPEND, APPEND. A copying memo would be quadratic or worse.
        var pickle = new PickleBuilder().Proto(2).EmptyList().BinPut(0)
            .Repeat(100_000, p => p.BinGet(0).Dup().Append().Append())
            .Stop();

        var list = Assert.IsType<PyList>(Run(pickle).Root);

        Assert.Equal(200_000, list.Items.Count);
        Assert.All(list.Items, item => Assert.Same(list, item));
    }

    [Fact]
    public void A_100k_level_DUP_tuple_tower_runs_in_linear_time()
    {
        // x = (); 100,000 times x = (x, x): 2^100000 leaves if expanded, 100,000 tuples as shared references.
        var pickle = new PickleBuilder().Proto(2).EmptyTuple().Repeat(100_000, p => p.Dup().Tuple2()).Stop();

        var top = Assert.IsType<PyTuple>(Run(pickle).Root);

        Assert.Same(top.Items[0], top.Items[1]);
        int depth = 0;
        for (object node = top; node is PyTuple { Items.Count: 2 } t; node = t.Items[0])
        {
            depth++;
        }
        Assert.Equal(100_000, depth);
    }

    [Fact]
    public void A_memo_bomb_through_STACK_GLOBAL_names_is_still_one_global()
    {
        var pickle = new PickleBuilder().Proto(4).ShortBinUnicode("posix").Memoize().ShortBinUnicode("system").Memoize().Pop().Pop()
            .EmptyList().Mark().Repeat(10_000, p => p.BinGet(0).BinGet(1).StackGlobal()).Appends().Stop();

        var result = Run(pickle);

        Assert.Equal(10_000, ((PyList)result.Root).Items.Count);
        Assert.Equal("posix.system", Assert.Single(result.Globals).FullName);
    }

    private static T AssertAllocatesLittle<T>(Func<T> action)
    {
        action(); // warm up: JIT, statics, first-exception machinery
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = action();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < AllocationBudget, $"allocated {allocated} bytes (budget {AllocationBudget})");
        return result;
    }
}
