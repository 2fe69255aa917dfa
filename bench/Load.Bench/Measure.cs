using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StateDict.LoadBench;

/// <summary>
/// One measurement, in a fresh process (the table runs one per mode and run, so each mode's peak RSS is its own and
/// every load faults fresh memory): the timed operation, this process's VmHWM right after it, then memcpy of the
/// file's size between two already-touched buffers in this same process (the limit the table divides by).
/// With <c>fresh</c> the timed operation is the first thing the process does (no warm-up, one open): what a user
/// meets, JIT and first touch of fresh memory included. Prints one line, <c>RESULT {json}</c>.
/// </summary>
internal static class Measure
{
    public static readonly string[] Modes = ["open", "copy", "copy-seq", "copy-managed", "mmap-open", "mmap", "read-each", "slice8", "slice8-into", "copy-into", "convert-f32", "limits"];

    public static int Run(string mode, string path, int repetitions, string? touch, bool fresh)
    {
        var result = new JsonObject { ["mode"] = mode, ["file"] = path, ["bytes"] = new FileInfo(path).Length, ["fresh"] = fresh };
        if (fresh)
        {
            repetitions = 0;
        }
        long bytes = new FileInfo(path).Length;
        switch (mode)
        {
            case "open":
                Open(Runtime.Copy(), path, repetitions, result);
                break;
            case "mmap-open":
                Open(Runtime.MemoryMapped(), path, repetitions, result);
                break;
            case "copy":
                Full(Runtime.Copy(), preload: true, everyByte: touch == "bytes", fresh, path, result);
                break;
            case "copy-seq":
                Full(Runtime.Copy(), preload: false, everyByte: touch == "bytes", fresh, path, result);
                break;
            case "copy-managed":
                Full(Runtime.CopyManaged(), preload: true, everyByte: touch == "bytes", fresh, path, result);
                break;
            case "mmap":
                Full(Runtime.MemoryMapped(), preload: false, everyByte: touch != "pages", fresh, path, result);
                break;
            case "read-each":
                ReadEach(path, repetitions, fresh, result);
                break;
            case "slice8":
                Slices(path, eighth: true, into: false, fresh, result);
                break;
            case "slice8-into":
                Slices(path, eighth: true, into: true, fresh, result);
                break;
            case "copy-into":
                Slices(path, eighth: false, into: true, fresh, result);
                break;
            case "convert-f32":
                ConvertAll(path, repetitions, fresh, result);
                break;
            case "limits":
                Limits(path, bytes, repetitions, result);
                break;
            default:
                Console.Error.WriteLine($"unknown mode '{mode}' (one of {string.Join(", ", Modes)})");
                return 2;
        }
        if (mode != "limits" && !result.ContainsKey("memcpy_seconds"))
        {
            result["memcpy_seconds"] = Memory.TouchedMemcpySeconds(bytes, Math.Max(repetitions, 3));
        }
        Console.WriteLine("RESULT " + result.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        return 0;
    }

    /// <summary>
    /// Open and list (keys, shapes): the first open in the process (with JIT), then <paramref name="repetitions"/> more,
    /// whose median is the figure. Open-only modes allocate little, so repeating them in one process is fair.
    /// With no repetitions (fresh) the figure is the first open.
    /// </summary>
    private static void Open(LoadOptions options, string path, int repetitions, JsonObject result)
    {
        var clock = Stopwatch.StartNew();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        using (var cold = Checkpoint.Open(path, options))
        {
            List(cold);
        }
        result["cold_seconds"] = clock.Elapsed.TotalSeconds;
        result["cold_allocated_bytes"] = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (repetitions == 0)
        {
            result["seconds"] = result["cold_seconds"]!.DeepClone();
            result["allocated_bytes"] = result["cold_allocated_bytes"]!.DeepClone();
            result["hwm"] = Memory.Status("VmHWM");
            result["rss"] = Memory.Status("VmRSS");
            return;
        }
        var times = new List<double>();
        var allocated = new List<double>();
        for (int r = 0; r < repetitions; r++)
        {
            Settle();
            allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            clock.Restart();
            var checkpoint = Checkpoint.Open(path, options);
            long elements = List(checkpoint);
            times.Add(clock.Elapsed.TotalSeconds);
            allocated.Add(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            result["hwm"] = Memory.Status("VmHWM");
            result["rss"] = Memory.Status("VmRSS");
            result["tensors"] = checkpoint.Tensors.Count;
            result["elements"] = elements;
            checkpoint.Dispose();
        }
        result["seconds"] = Stats.Median(times);
        result["allocated_bytes"] = Stats.Median(allocated);
        result["opens"] = times.Count;
    }

    /// <summary>
    /// What reading costs per tensor after the open (copy mode): a checkpoint opened untimed, then <see cref="Checkpoint.Read{T}(TensorInfo)"/>
    /// of every tensor in file order, touching one byte per page. Each of the <paramref name="repetitions"/> runs has its own
    /// checkpoint (a read storage is cached, so a second pass would time the cache); the figure is the median run, and
    /// <c>per_tensor_seconds</c> divides it by the tensor count. Before it, one untimed pass on another checkpoint
    /// (JIT) unless <paramref name="fresh"/>.
    /// </summary>
    private static void ReadEach(string path, int repetitions, bool fresh, JsonObject result)
    {
        var times = new List<double>();
        var allocated = new List<double>();
        int tensors = 0;
        for (int r = fresh ? 0 : -1; r < Math.Max(1, repetitions); r++)
        {
            using var checkpoint = Checkpoint.Open(path, Runtime.Copy());
            var infos = checkpoint.Tensors.Values.ToArray();
            tensors = infos.Length;
            Settle();
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            ulong sum = 0;
            foreach (var tensor in infos)
            {
                sum += Runtime.Touch(checkpoint, tensor, everyByte: false);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (r >= 0)
            {
                times.Add(seconds);
                allocated.Add(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
                result["checksum"] = sum.ToString("x16");
            }
        }
        result["seconds"] = Stats.Median(times);
        result["tensors"] = tensors;
        result["per_tensor_seconds"] = Stats.Median(times) / tensors;
        result["allocated_bytes_per_tensor"] = Stats.Median(allocated) / tensors;
        result["hwm"] = Memory.Status("VmHWM");
    }

    /// <summary>
    /// Open, (optionally) <see cref="Checkpoint.Preload"/>, then read every tensor and touch its bytes. Before it, an untimed
    /// warm-up on the same file (open, read the smallest tensor of each dtype) so JIT is not in the figure, unless
    /// <paramref name="fresh"/>.
    /// </summary>
    private static void Full(LoadOptions options, bool preload, bool everyByte, bool fresh, string path, JsonObject result)
    {
        var clock = Stopwatch.StartNew();
        if (!fresh)
        {
            using (var warm = Checkpoint.Open(path, options))
            {
                foreach (var smallest in warm.Tensors.Values.GroupBy(t => t.DType).Select(g => g.MinBy(t => t.ByteLength)!))
                {
                    Runtime.Touch(warm, smallest, everyByte);
                }
            }
            result["warmup_seconds"] = clock.Elapsed.TotalSeconds;
            Settle();
        }
        long hwmBefore = Memory.Status("VmHWM");

        clock.Restart();
        var checkpoint = Checkpoint.Open(path, options);
        double opened = clock.Elapsed.TotalSeconds;
        if (preload)
        {
            Runtime.Preload(checkpoint);
        }
        double preloaded = clock.Elapsed.TotalSeconds;
        ulong checksum = 0;
        long tensorBytes = 0;
        foreach (var tensor in checkpoint.Tensors.Values)
        {
            checksum += Runtime.Touch(checkpoint, tensor, everyByte);
            tensorBytes += tensor.ByteLength;
        }
        result["seconds"] = clock.Elapsed.TotalSeconds;
        result["open_seconds"] = opened;
        result["preload_seconds"] = preload ? preloaded - opened : 0;
        result["hwm"] = Memory.Status("VmHWM");
        result["hwm_before"] = hwmBefore;
        result["rss"] = Memory.Status("VmRSS");
        result["rss_file"] = Memory.Status("RssFile");
        result["anon_huge"] = Memory.AnonHugePages();
        result["tensors"] = checkpoint.Tensors.Count;
        result["tensor_bytes"] = tensorBytes;
        result["checksum"] = checksum.ToString("x16");
        result["touch"] = everyByte ? "bytes" : "pages";
        clock.Restart();
        checkpoint.Dispose();
        result["dispose_seconds"] = clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// What a tensor-parallel worker reads: open (copy mode), then the first eighth of dim 0 of every tensor, touching
    /// every page: with <see cref="Checkpoint.ReadSlice{T}(string, ReadOnlySpan{Range})"/> (a fresh array each), or with
    /// <paramref name="into"/> <see cref="Checkpoint.CopySliceTo{T}(string, Span{T}, ReadOnlySpan{Range})"/> into one
    /// reused, already-touched buffer (the worker's preallocated weights). Without <paramref name="eighth"/>, every whole
    /// tensor the same way: the copy-into row, the full read slice8-into compares with. With <paramref name="fresh"/> there
    /// is no warm-up, and the reused buffer (untimed) is the file's size, as the largest tensor is not known unopened.
    /// </summary>
    private static void Slices(string path, bool eighth, bool into, bool fresh, JsonObject result)
    {
        static int Rows(TensorInfo tensor, bool eighth) => (int)(eighth ? (tensor.Shape[0] + 7) / 8 : tensor.Shape[0]);
        byte[] buffer = [];
        if (fresh && into)
        {
            buffer = Runtime.TouchedBuffer(Math.Min(new FileInfo(path).Length, Array.MaxLength));
        }
        else if (!fresh)
        {
            // Warm only what the row times, and give ReadSlice rows no buffer (it would count in their peak RSS).
            using var warm = Checkpoint.Open(path);
            var smallest = warm.Tensors.Values.Where(t => t.Shape.Length > 0).MinBy(t => t.ByteLength)!;
            if (into)
            {
                Runtime.CopySlice(warm, smallest, 1, new byte[smallest.ByteLength]);
                buffer = Runtime.TouchedBuffer(warm.Tensors.Values.Max(t => t.ByteLength));
            }
            else
            {
                Runtime.TouchSlice(warm, smallest, 1);
            }
        }
        Settle();
        var clock = Stopwatch.StartNew();
        using var checkpoint = Checkpoint.Open(path);
        long sliceBytes = 0;
        foreach (var tensor in checkpoint.Tensors.Values.Where(t => t.Shape.Length > 0 && t.ElementCount > 0))
        {
            int rows = Rows(tensor, eighth);
            sliceBytes += into ? Runtime.CopySlice(checkpoint, tensor, rows, buffer) : Runtime.TouchSlice(checkpoint, tensor, rows);
        }
        result["seconds"] = clock.Elapsed.TotalSeconds;
        result["slice_bytes"] = sliceBytes;
        result["hwm"] = Memory.Status("VmHWM");
        result["tensors"] = checkpoint.Tensors.Count;
    }

    /// <summary>
    /// Conversion on load: open, then <see cref="Checkpoint.ReadAs{T}(string)"/> as float32 every tensor (bf16 → f32 for
    /// the bf16 file), touching every output page. × memcpy here is against memcpy of the output's size.
    /// </summary>
    private static void ConvertAll(string path, int repetitions, bool fresh, JsonObject result)
    {
        if (!fresh)
        {
            using var warm = Checkpoint.Open(path);
            Memory.TouchPages(System.Runtime.InteropServices.MemoryMarshal.AsBytes(warm.ReadAs<float>(warm.Tensors.Values.MinBy(t => t.ByteLength)!.Key).Span));
        }
        Settle();
        var clock = Stopwatch.StartNew();
        var checkpoint = Checkpoint.Open(path);
        long outputBytes = 0;
        foreach (var tensor in checkpoint.Tensors.Values)
        {
            var converted = checkpoint.ReadAs<float>(tensor.Key);
            Memory.TouchPages(System.Runtime.InteropServices.MemoryMarshal.AsBytes(converted.Span));
            outputBytes += converted.Length * 4L;
        }
        result["seconds"] = clock.Elapsed.TotalSeconds;
        result["output_bytes"] = outputBytes;
        result["hwm"] = Memory.Status("VmHWM");
        result["tensors"] = checkpoint.Tensors.Count;
        checkpoint.Dispose();
        Settle();
        result["memcpy_seconds"] = Memory.TouchedMemcpySeconds(outputBytes, Math.Max(repetitions, 3)); // a fresh run has 0
    }

    /// <summary>
    /// The machine's figures for these bytes: memcpy between touched buffers; memcpy into fresh memory with 4 KiB pages
    /// (first touch) and with 2 MiB huge pages; read(2) from the page cache into a touched and into a fresh huge-page buffer.
    /// </summary>
    private static unsafe void Limits(string path, long bytes, int repetitions, JsonObject result)
    {
        using var source = new Memory.Block(bytes, hugePages: true);
        using var touched = new Memory.Block(bytes, hugePages: true);
        source.Fill(1);
        touched.Fill(2);
        result["anon_huge"] = Memory.AnonHugePages();
        Memory.Copy(source, touched, bytes);
        var memcpy = new List<double>();
        var fresh4k = new List<double>();
        var fresh2m = new List<double>();
        var readTouched = new List<double>();
        var readFresh2m = new List<double>();
        using var file = File.OpenHandle(path);
        for (int r = 0; r < repetitions; r++)
        {
            memcpy.Add(Memory.Copy(source, touched, bytes));
            using (var fresh = new Memory.Block(bytes, hugePages: false))
            {
                fresh4k.Add(Memory.Copy(source, fresh, bytes));
            }
            using (var fresh = new Memory.Block(bytes, hugePages: true))
            {
                fresh2m.Add(Memory.Copy(source, fresh, bytes));
            }
            readTouched.Add(ReadAll(file, touched));
            using (var fresh = new Memory.Block(bytes, hugePages: true))
            {
                readFresh2m.Add(ReadAll(file, fresh));
            }
        }
        result["memcpy_seconds"] = Stats.Median(memcpy);
        result["first_touch_4k_seconds"] = Stats.Median(fresh4k);
        result["first_touch_2m_seconds"] = Stats.Median(fresh2m);
        result["read_touched_seconds"] = Stats.Median(readTouched);
        result["read_fresh_2m_seconds"] = Stats.Median(readFresh2m);
    }

    private static unsafe double ReadAll(Microsoft.Win32.SafeHandles.SafeFileHandle file, Memory.Block into)
    {
        const int Chunk = 64 << 20;
        var clock = Stopwatch.StartNew();
        for (long at = 0; at < into.Length;)
        {
            int n = RandomAccess.Read(file, new Span<byte>(into.Pointer + at, (int)Math.Min(Chunk, into.Length - at)), at);
            if (n == 0)
            {
                break;
            }
            at += n;
        }
        return clock.Elapsed.TotalSeconds;
    }

    private static long List(Checkpoint checkpoint)
    {
        long elements = 0;
        foreach (var (key, tensor) in checkpoint.Tensors)
        {
            elements += tensor.ElementCount + tensor.Shape.Length + key.Length;
        }
        return elements;
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
