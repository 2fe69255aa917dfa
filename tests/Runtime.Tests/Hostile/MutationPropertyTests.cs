using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using CsCheck;
using StateDict.Pickle;
using StateDict.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace StateDict.Tests.Hostile;

/// <summary>
/// Property tests over mutated real fixtures (CsCheck generators): random bit flips, truncations, splices of two
/// fixtures, duplicated and removed byte ranges, length fields overwritten with extreme values, and no-op-equivalent
/// edits. Opening a mutant and reading every tensor either gives exactly what PyTorch wrote (when the mutation cannot
/// change it) or throws a <see cref="CheckpointException"/> from a deliberate check (not the catch-all); never another
/// exception, never more than <see cref="TimeLimit"/>, and never more than 64 bytes allocated per file byte plus 16 MB.
/// </summary>
/// <remarks>
/// Cases are drawn from a fixed seed (<see cref="Seed"/>): every run tries the same ones. A failure names its case
/// and seed, then CsCheck starts from that seed to shrink it and reports the simplest failing case with a seed to
/// replay: <c>gen.Sample(check, seed: "...")</c>. Set STATEDICT_PROPERTY_CASES to run more (or fewer) cases, and
/// STATEDICT_PROPERTY_SEED (a decimal integer) to explore other cases.
/// </remarks>
public class MutationPropertyTests(ITestOutputHelper output)
{
    private static readonly ulong Seed = ulong.TryParse(Environment.GetEnvironmentVariable("STATEDICT_PROPERTY_SEED"), out ulong seed) ? seed : 0x5eed_5743_d1c7;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(2);
    private static readonly string[] Names = ["mlp.pth", "legacy_mlp.pth", "protocol4.pth", "views.pth", "checkpoint.pth"];
    private static readonly Dictionary<string, Original> Originals = Names.ToDictionary(n => n, Original.Load);

    /// <summary>The values written over length fields: 0, 1, around 2^31 and 2^32, 2^63 - 1, -1, 2^63.</summary>
    private static readonly long[] Extremes =
        [0, 1, int.MaxValue, 1L << 31, uint.MaxValue, 1L << 32, long.MaxValue, -1, long.MinValue, 0x7FFF_FFFF_FFFF_FFF0];

    private static readonly Gen<string> Fixture = Gen.Int[0, Names.Length - 1].Select(i => Names[i]);

    // ------------------------------------------------------------------ properties

    [Fact]
    public void Random_bit_flips_read_identically_or_fail_with_a_checkpoint_exception()
    {
        var gen = from name in Fixture
                  let length = Originals[name].Bytes.Length
                  from flips in Gen.Select(Gen.Int[0, length - 1], Gen.Int[0, 7]).Array[1, 8]
                  select (Mutation)new BitFlips(name, flips);

        Check(gen, cases: 1000);
    }

    [Fact]
    public void Every_truncation_fails_with_a_checkpoint_exception()
    {
        // Both formats need their last byte: the zip directory is at the end, and legacy storages run to the end.
        var gen = from name in Fixture
                  from length in Gen.Int[0, Originals[name].Bytes.Length - 1]
                  select (Mutation)new Truncate(name, length);

        Check(gen, cases: 500, mustFail: true);
    }

    [Fact]
    public void Splices_of_two_fixtures_read_or_fail_with_a_checkpoint_exception()
    {
        var gen = from name in Fixture
                  from other in Fixture
                  from cut in Gen.Int[0, Originals[name].Bytes.Length]
                  from otherCut in Gen.Int[0, Originals[other].Bytes.Length]
                  select (Mutation)new Splice(name, cut, other, otherCut);

        Check(gen, cases: 300);
    }

    [Fact]
    public void Duplicated_and_removed_byte_ranges_read_or_fail_with_a_checkpoint_exception()
    {
        var gen = from name in Fixture
                  let length = Originals[name].Bytes.Length
                  from start in Gen.Int[0, length - 1]
                  from count in Gen.Int[1, Math.Min(256, length - start)]
                  from duplicate in Gen.Bool
                  from at in Gen.Int[0, length]
                  select duplicate ? (Mutation)new Duplicate(name, start, count, at) : new Remove(name, start, count);

        Check(gen, cases: 1000);
    }

    [Fact]
    public void Length_fields_set_to_extreme_values_read_or_fail_with_a_checkpoint_exception()
    {
        // Half the offsets are where a length, size, offset or count lives (zip headers, pickle length prefixes,
        // legacy storage counts); the other half are anywhere.
        var gen = from name in Fixture
                  let original = Originals[name]
                  from width in Gen.Int[0, 1].Select(i => i == 0 ? 4 : 8)
                  from field in Gen.Bool
                  from offset in field
                      ? Gen.Int[0, original.Fields.Length - 1].Select(i => original.Fields[i])
                      : Gen.Int[0, original.Bytes.Length - 1]
                  from value in Gen.Int[0, Extremes.Length].Select(i => i < Extremes.Length ? Extremes[i] : original.Bytes.Length)
                  select (Mutation)new Overwrite(name, offset, width, value);

        Check(gen, cases: 1000);
    }

    [Fact]
    public void No_op_equivalent_edits_read_exactly_what_PyTorch_wrote()
    {
        // A bit flipped twice, a field rewritten with its own value, or bytes appended after the end (torch.load
        // ignores them: it reads the zip directory found from the end, or the legacy storages it was told about).
        var gen = from name in Fixture
                  let length = Originals[name].Bytes.Length
                  from kind in Gen.Int[0, 2]
                  from offset in Gen.Int[0, length - 1]
                  from bit in Gen.Int[0, 7]
                  from tail in Gen.Byte.Array[1, 64]
                  select kind switch
                  {
                      0 => (Mutation)new BitFlips(name, [(offset, bit), (offset, bit)]),
                      1 => new Overwrite(name, Math.Min(offset, length - 4), 4, BinaryPrimitives.ReadUInt32LittleEndian(Originals[name].Bytes.AsSpan(Math.Min(offset, length - 4)))),
                      _ => new Append(name, tail),
                  };

        Check(gen, cases: 300);
    }

    [Fact]
    public void Every_fixture_unmutated_reads_exactly_its_expected_json_within_the_bounds()
    {
        using var file = new TempFile([]);
        foreach (string name in Names)
        {
            var original = Originals[name];
            file.Write(original.Bytes);
            var outcome = Attempt(file.Path, original.Bytes.Length, name);
            Assert.True(outcome.Error is null, $"{name}: {outcome.Error}");
            AssertExpected(original, outcome.Tensors!, name);
        }
    }

    [Theory]
    [InlineData(0x0800_0000u)]
    [InlineData(0x3000_0000u)]
    public void A_stored_record_whose_directory_size_lies_is_refused_before_allocating_it(uint extra)
    {
        // Found by the bit-flip property: one flipped bit in data.pkl's uncompressed size made Open allocate 128 MB.
        var zip = (byte[])Originals["mlp.pth"].Bytes.Clone();
        int size = TorchZip.CentralHeaderOf(zip, "mlp/data.pkl") + 24;
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(size), BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(size)) + extra);
        using var file = new TempFile(zip);

        var outcome = Attempt(file.Path, zip.Length, "mlp.pth with a lying data.pkl size");

        var e = Assert.IsType<CheckpointCorruptException>(outcome.Error);
        Assert.Contains("record mlp/data.pkl is stored uncompressed, yet the central directory gives it", e.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ the check every case passes

    private void Check(Gen<Mutation> gen, int cases, bool mustFail = false)
    {
        cases = int.TryParse(Environment.GetEnvironmentVariable("STATEDICT_PROPERTY_CASES"), out int n) ? n : cases;
        using var file = new TempFile([]);
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Assert1(Mutation m)
        {
            string result = Verify(m, file, mustFail);
            tally[result] = tally.GetValueOrDefault(result) + 1;
        }
        for (uint i = 0; i < cases; i++)
        {
            var pcg = new PCG(i, Seed);
            string seed = pcg.ToString();
            var mutation = gen.Generate(pcg, null, out _);
            try
            {
                Assert1(mutation);
            }
            catch (Exception first)
            {
                string found = $"case {i} of {cases} failed (seed \"{seed}\": {mutation}): {first.Message}";
                try
                {
                    // Shrink from the failing seed; CsCheck throws with the simplest failing case and its seed.
                    gen.Sample(Assert1, seed: seed, iter: 200, threads: 1, print: m => m.ToString());
                }
                catch (Exception shrunk)
                {
                    throw new Xunit.Sdk.XunitException($"{found}\nshrunk by CsCheck: {shrunk.Message}");
                }
                throw new Xunit.Sdk.XunitException(found);
            }
        }
        output.WriteLine($"{cases} cases from seed 0x{Seed:x}: {string.Join(", ", tally.Select(t => $"{t.Key} {t.Value}"))}");
    }

    /// <summary>Checks one mutant; returns how it ended (for the tally).</summary>
    private static string Verify(Mutation mutation, TempFile file, bool mustFail)
    {
        var original = Originals[mutation.Fixture];
        var bytes = mutation.Apply();
        file.Write(bytes);
        var outcome = Attempt(file.Path, bytes.Length, mutation.ToString());
        if (outcome.Tensors is null)
        {
            return outcome.Error!.GetType().Name; // A typed CheckpointException; Attempt checked it.
        }
        Assert.False(mustFail, $"{mutation}: opened and read {outcome.Tensors.Count} tensors");
        if (bytes.AsSpan().SequenceEqual(original.Bytes) || mutation is Append)
        {
            AssertExpected(original, outcome.Tensors, mutation.ToString());
            return "read exactly";
        }
        return "read";
    }

    /// <summary>Open + ReadBytes of every tensor on a thread of its own, timed and with its allocations counted.</summary>
    private static Outcome Attempt(string path, long fileSize, string context)
    {
        var clock = Stopwatch.StartNew();
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var checkpoint = Checkpoint.Open(path);
                var tensors = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach (var (key, info) in checkpoint.Tensors)
                {
                    var data = checkpoint.ReadBytes(key);
                    Assert.True(data.Length == info.ByteLength, $"{context}: '{key}' read {data.Length} bytes, its info says {info.ByteLength}");
                    tensors.Add(key, data.ToArray());
                }
                return new Outcome(tensors, null, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                return new Outcome(null, e, GC.GetAllocatedBytesForCurrentThread() - before);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.True(task.Wait(TimeLimit), $"{context}: still running after {TimeLimit.TotalSeconds} s");
        var outcome = task.Result;
        long budget = 64 * fileSize + (16 << 20);
        Assert.True(outcome.Allocated < budget, $"{context}: allocated {outcome.Allocated} bytes (budget {budget}) in {clock.ElapsedMilliseconds} ms");
        if (outcome.Error is { } error)
        {
            var checkpointError = Assert.IsAssignableFrom<CheckpointException>(error);
            Assert.True(checkpointError.FilePath == path, $"{context}: the exception names '{checkpointError.FilePath}'");
            Assert.False(checkpointError.Problem.StartsWith("unreadable checkpoint:", StringComparison.Ordinal),
                $"{context}: only the catch-all caught {error.InnerException?.GetType().Name}: {error.Message}\n{error.InnerException?.StackTrace}");
        }
        return outcome;
    }

    private static void AssertExpected(Original original, Dictionary<string, byte[]> tensors, string context)
    {
        Assert.True(original.Expected.Tensors.Select(t => t.Key).ToHashSet().SetEquals(tensors.Keys), $"{context}: keys differ");
        foreach (var want in original.Expected.Tensors)
        {
            Assert.True(want.Sha256 == Convert.ToHexStringLower(SHA256.HashData(tensors[want.Key])), $"{context}: tensor '{want.Key}' differs from expected.json");
        }
    }

    private sealed record Outcome(Dictionary<string, byte[]>? Tensors, Exception? Error, long Allocated);

    // ------------------------------------------------------------------ fixtures and mutations

    /// <summary>A fixture's bytes, its expected.json, and the offsets of its length-like fields.</summary>
    private sealed record Original(string Name, byte[] Bytes, Expected Expected, int[] Fields)
    {
        public static Original Load(string name)
        {
            var bytes = File.ReadAllBytes(Fixtures.PathOf(name));
            return new Original(name, bytes, Fixtures.ExpectedFor(name), LengthFields(bytes));
        }
    }

    /// <summary>
    /// Where sizes, counts and offsets live: zip local, central, zip64 and end records, the bytes after every pickle
    /// opcode with a length or index argument (a byte with that value anywhere: data or opcode, both are fair game),
    /// and a legacy file's storage element counts.
    /// </summary>
    private static int[] LengthFields(byte[] bytes)
    {
        var fields = new SortedSet<int>();
        void Add(int at, params int[] offsets)
        {
            foreach (int o in offsets)
            {
                if (at + o + 4 <= bytes.Length)
                {
                    fields.Add(at + o);
                }
            }
        }
        ReadOnlySpan<byte> span = bytes;
        for (int at = 0; at + 4 <= bytes.Length; at++)
        {
            if (span[at] == 'P' && span[at + 1] == 'K')
            {
                switch ((span[at + 2], span[at + 3]))
                {
                    case (3, 4): Add(at, 14, 18, 22, 26, 28); break;                    // CRC, sizes, name and extra lengths
                    case (1, 2): Add(at, 16, 20, 24, 28, 30, 32, 34, 42); break;        // CRC, sizes, lengths, local header offset
                    case (5, 6): Add(at, 8, 10, 12, 16, 20); break;                     // entry counts, directory size and offset
                    case (6, 6): Add(at, 4, 24, 32, 40, 48); break;                     // zip64 end record
                    case (6, 7): Add(at, 8, 16); break;                                 // zip64 locator
                }
            }
            if (span[at] == 1 && span[at + 1] == 0)
            {
                Add(at, 2, 4, 12, 20);                                                   // a zip64 extra field, maybe
            }
            switch ((PickleOpcode)span[at])
            {
                case PickleOpcode.BinUnicode or PickleOpcode.BinBytes or PickleOpcode.BinString or PickleOpcode.BinInt
                    or PickleOpcode.LongBinGet or PickleOpcode.LongBinPut or PickleOpcode.Long4
                    or PickleOpcode.BinUnicode8 or PickleOpcode.BinBytes8 or PickleOpcode.ByteArray8 or PickleOpcode.Frame:
                    Add(at, 1);
                    break;
            }
        }
        foreach (int count in LegacyStorageCounts(bytes))
        {
            fields.Add(count);
        }
        return [.. fields];
    }

    /// <summary>The offsets of a legacy file's int64 storage element counts (float32 storages, as the fixtures hold).</summary>
    private static IEnumerable<int> LegacyStorageCounts(byte[] bytes)
    {
        if (!bytes.AsSpan().StartsWith(StateDict.Containers.LegacyContainer.Signature))
        {
            yield break;
        }
        int position = 0;
        for (int i = 0; i < 5; i++)
        {
            position += PickleMachine.Run(bytes.AsSpan(position), new PickleSource("fixture", "legacy"), CheckpointLimits.Default).EndPosition;
        }
        while (position + 8 <= bytes.Length)
        {
            yield return position;
            long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(position));
            position += 8 + (int)(count * 4);
        }
    }

    private abstract record Mutation(string Fixture)
    {
        protected byte[] Bytes => Originals[Fixture].Bytes;

        public abstract byte[] Apply();
    }

    private sealed record BitFlips(string Fixture, (int Offset, int Bit)[] Flips) : Mutation(Fixture)
    {
        public override byte[] Apply()
        {
            var bytes = (byte[])Bytes.Clone();
            foreach (var (offset, bit) in Flips)
            {
                bytes[offset] ^= (byte)(1 << bit);
            }
            return bytes;
        }

        public override string ToString() => $"{Fixture} with bits flipped at {string.Join(", ", Flips.Select(f => $"{f.Offset}.{f.Bit}"))}";
    }

    private sealed record Truncate(string Fixture, int Length) : Mutation(Fixture)
    {
        public override byte[] Apply() => Bytes[..Length];

        public override string ToString() => $"{Fixture} cut to {Length} bytes";
    }

    private sealed record Splice(string Fixture, int Cut, string Other, int OtherCut) : Mutation(Fixture)
    {
        public override byte[] Apply() => [.. Bytes[..Cut], .. Originals[Other].Bytes[OtherCut..]];

        public override string ToString() => $"{Fixture}[..{Cut}] + {Other}[{OtherCut}..]";
    }

    private sealed record Duplicate(string Fixture, int Start, int Count, int At) : Mutation(Fixture)
    {
        public override byte[] Apply() => [.. Bytes[..At], .. Bytes.AsSpan(Start, Count), .. Bytes[At..]];

        public override string ToString() => $"{Fixture} with bytes {Start}..{Start + Count} copied in at {At}";
    }

    private sealed record Remove(string Fixture, int Start, int Count) : Mutation(Fixture)
    {
        public override byte[] Apply() => [.. Bytes[..Start], .. Bytes[(Start + Count)..]];

        public override string ToString() => $"{Fixture} without bytes {Start}..{Start + Count}";
    }

    private sealed record Overwrite(string Fixture, int Offset, int Width, long Value) : Mutation(Fixture)
    {
        public override byte[] Apply()
        {
            var bytes = (byte[])Bytes.Clone();
            int at = Math.Min(Offset, bytes.Length - Width);
            if (Width == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), unchecked((uint)Value));
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), Value);
            }
            return bytes;
        }

        public override string ToString() => $"{Fixture} with the {Width}-byte integer at {Math.Min(Offset, Bytes.Length - Width)} set to {Value} (0x{Value:x})";
    }

    private sealed record Append(string Fixture, byte[] Tail) : Mutation(Fixture)
    {
        public override byte[] Apply() => [.. Bytes, .. Tail];

        public override string ToString() => $"{Fixture} + {Tail.Length} bytes ({Convert.ToHexString(Tail)})";
    }
}
