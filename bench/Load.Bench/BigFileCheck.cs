using System.Security.Cryptography;
using System.Text.Json;

namespace StateDict.LoadBench;

/// <summary>
/// Reads a >4 GiB zip64 checkpoint (bench/make_big_zip64.py) in every memory mode and checks each tensor's SHA-256
/// against what PyTorch recorded: tensors beyond span size are read in parts with <see cref="Checkpoint.CopyTo{T}"/>.
/// </summary>
internal static class BigFileCheck
{
    public static int Run(string path)
    {
        var expected = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path + ".sha256.json"))!;
        int failures = 0;
        foreach (var memory in new[] { TensorMemory.MemoryMapped, TensorMemory.NativeArena })
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            using var checkpoint = Checkpoint.Open(path, new LoadOptions { Memory = memory });
            foreach (var (key, info) in checkpoint.Tensors)
            {
                string sha = info.ElementCount > Array.MaxLength ? HashInParts(checkpoint, info) : Convert.ToHexStringLower(SHA256.HashData(checkpoint.ReadBytes(key).Span));
                bool ok = sha == expected[key];
                failures += ok ? 0 : 1;
                Console.WriteLine($"{memory,-13} {key}: {info.DType.Name()} [{string.Join(", ", info.Shape)}] sha256 {(ok ? "matches PyTorch" : $"DIFFERS ({sha})")}");
            }
            Console.WriteLine($"{memory,-13} all tensors checked in {started.Elapsed.TotalSeconds:F1} s");
        }
        return failures == 0 ? 0 : 1;
    }

    private static string HashInParts(Checkpoint checkpoint, TensorInfo info)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 << 20];
        for (long at = 0; at < info.ElementCount; at += buffer.Length)
        {
            int count = (int)Math.Min(buffer.Length, info.ElementCount - at);
            checkpoint.CopyTo<byte>(info.Key, at, buffer.AsSpan(0, count));
            sha.AppendData(buffer, 0, count);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
