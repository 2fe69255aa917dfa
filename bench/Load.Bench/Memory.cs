using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StateDict.LoadBench;

/// <summary>Anonymous memory with a chosen page size (Linux: mmap + madvise), and the touch/checksum loops.</summary>
internal static unsafe partial class Memory
{
    public const int SmallPage = 4096;
    private const long HugePage = 2L << 20;
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const int MadvHugePage = 14;
    private const int MadvNoHugePage = 15;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);

    /// <summary>A fresh, untouched anonymous mapping: 2 MiB-aligned with MADV_HUGEPAGE, or with MADV_NOHUGEPAGE (4 KiB pages).</summary>
    public sealed class Block : IDisposable
    {
        private readonly nint _mapping;
        private readonly nuint _mappingLength;

        public Block(long length, bool hugePages)
        {
            Length = length;
            _mappingLength = (nuint)(length + HugePage);
            _mapping = mmap(0, _mappingLength, ProtReadWrite, MapPrivateAnonymous, -1, 0);
            if (_mapping == -1)
            {
                throw new InvalidOperationException($"mmap of {length} bytes failed: errno {Marshal.GetLastPInvokeError()}");
            }
            Pointer = (byte*)((_mapping + (nint)(HugePage - 1)) & ~(nint)(HugePage - 1));
            // The advice is explicit both ways so the figures do not depend on the THP mode (always/madvise).
            madvise(_mapping, _mappingLength, hugePages ? MadvHugePage : MadvNoHugePage);
        }

        public byte* Pointer { get; }

        public long Length { get; }

        public void Fill(byte value) => NativeMemory.Fill(Pointer, (nuint)Length, value);

        public void Dispose() => munmap(_mapping, _mappingLength);
    }

    /// <summary>Seconds to memcpy <paramref name="bytes"/> from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static double Copy(Block source, Block destination, long bytes)
    {
        var clock = Stopwatch.StartNew();
        Buffer.MemoryCopy(source.Pointer, destination.Pointer, destination.Length, bytes);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// memcpy between two already-touched huge-page buffers of <paramref name="bytes"/>: the limit every loading figure
    /// is divided by. One untimed copy, then the median of <paramref name="repetitions"/>.
    /// </summary>
    public static double TouchedMemcpySeconds(long bytes, int repetitions)
    {
        using var source = new Block(bytes, hugePages: true);
        using var destination = new Block(bytes, hugePages: true);
        source.Fill(1);
        destination.Fill(2);
        Copy(source, destination, bytes);
        return Stats.Median(Enumerable.Range(0, repetitions).Select(_ => Copy(source, destination, bytes)));
    }

    /// <summary>Reads one byte of every 4 KiB page the span covers (and its last byte): forces every page in, cheaply.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong TouchPages(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return 0;
        }
        ulong sum = bytes[^1];
        for (int i = 0; i < bytes.Length; i += SmallPage)
        {
            sum += bytes[i];
        }
        return sum;
    }

    /// <summary>Reads every byte (a wrapping sum of 64-bit words, vectorized): what "read every byte" costs at memory bandwidth.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong SumAll(ReadOnlySpan<byte> bytes)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        Vector256<ulong> a = default, b = default, c = default, d = default;
        int i = 0;
        ref ulong start = ref MemoryMarshal.GetReference(words);
        for (; i + 16 <= words.Length; i += 16)
        {
            a += Vector256.LoadUnsafe(ref start, (nuint)i);
            b += Vector256.LoadUnsafe(ref start, (nuint)(i + 4));
            c += Vector256.LoadUnsafe(ref start, (nuint)(i + 8));
            d += Vector256.LoadUnsafe(ref start, (nuint)(i + 12));
        }
        ulong sum = Vector256.Sum(a + b + c + d);
        for (; i < words.Length; i++)
        {
            sum += words[i];
        }
        for (int j = words.Length * sizeof(ulong); j < bytes.Length; j++)
        {
            sum += bytes[j];
        }
        return sum;
    }

    /// <summary>A line of /proc/self/status in bytes (VmHWM, VmRSS, RssFile, ...), or -1.</summary>
    public static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(kb) * 1024;
            }
        }
        return -1;
    }

    /// <summary>AnonHugePages of this process in bytes (from /proc/self/smaps_rollup), or -1.</summary>
    public static long AnonHugePages()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/smaps_rollup"))
            {
                if (line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                {
                    return long.Parse(line["AnonHugePages:".Length..].Trim().Split(' ')[0]) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }
}

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
