using System.Buffers.Binary;

namespace StateDict.Fuzz.Differential;

/// <summary>
/// Deterministic pickle-aware mutations for the CI lane (no AFL there): byte flips, opcode insertions with typical
/// arguments, deletions, duplications, splices between seeds, FRAME headers over arbitrary spans, truncation.
/// Seeded <see cref="Random"/> (its seeded algorithm is fixed across .NET versions), so a run is reproducible.
/// </summary>
internal sealed class Mutator(int seed, IReadOnlyList<byte[]> seeds)
{
    private const int MaxLength = 1 << 16;

    private static readonly byte[][] Snippets =
    [
        [0x80, 0x02], [0x80, 0x04], [0x80, 0x05], [0x95, 8, 0, 0, 0, 0, 0, 0, 0], [(byte)'.'], [(byte)'('], [(byte)')'],
        [(byte)']'], [(byte)'}'], [(byte)'a'], [(byte)'e'], [(byte)'s'], [(byte)'u'], [(byte)'t'], [0x85], [0x86], [0x87],
        [(byte)'R'], [(byte)'b'], [0x81], [0x92], [(byte)'o'], [0x93], [0x94], [(byte)'0'], [(byte)'1'], [(byte)'2'],
        [(byte)'N'], [0x88], [0x89], [(byte)'K', 1], [(byte)'M', 1, 1], [(byte)'J', 1, 0, 0, 0], [0x8a, 1, 1],
        [(byte)'q', 0], [(byte)'h', 0], [(byte)'r', 0, 0, 0, 0], [(byte)'j', 0, 0, 0, 0], [(byte)'Q'], [(byte)'P', (byte)'0', 10],
        [0x8c, 1, (byte)'x'], [(byte)'X', 1, 0, 0, 0, (byte)'y'], [(byte)'C', 1, 0], [(byte)'B', 1, 0, 0, 0, 0], [0x96, 0, 0, 0, 0, 0, 0, 0, 0],
        [0x8f], [0x90], [0x91], [(byte)'G', 0, 0, 0, 0, 0, 0, 0, 0], [(byte)'I', (byte)'0', (byte)'1', 10], [(byte)'L', (byte)'1', (byte)'L', 10],
        [(byte)'V', (byte)'a', 10], [(byte)'S', (byte)'\'', (byte)'a', (byte)'\'', 10], [(byte)'p', (byte)'0', 10], [(byte)'g', (byte)'0', 10],
        "cos\nsystem\n"u8.ToArray(), "c__builtin__\neval\n"u8.ToArray(), "ccollections\nOrderedDict\n"u8.ToArray(),
        "ctorch._utils\n_rebuild_tensor_v2\n"u8.ToArray(), "ctorch\nFloatStorage\n"u8.ToArray(),
        [0x8c, 2, (byte)'o', (byte)'s', 0x8c, 6, (byte)'s', (byte)'y', (byte)'s', (byte)'t', (byte)'e', (byte)'m', 0x93],
        "(X\x07\x00\x00\x00storageq\x00ctorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ"u8.ToArray(),
    ];

    private readonly Random _random = new(seed);

    public byte[] Next()
    {
        var data = new List<byte>(seeds[_random.Next(seeds.Count)]);
        int steps = 1 + _random.Next(4);
        for (int i = 0; i < steps; i++)
        {
            Mutate(data);
        }
        return data.Count > MaxLength ? data.GetRange(0, MaxLength).ToArray() : data.ToArray();
    }

    private void Mutate(List<byte> data)
    {
        int at = data.Count == 0 ? 0 : _random.Next(data.Count + 1);
        switch (_random.Next(9))
        {
            case 0 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] = (byte)_random.Next(256);
                break;
            case 2:
            case 3:
                data.InsertRange(at, Snippets[_random.Next(Snippets.Length)]);
                break;
            case 4 when data.Count > 0:
                {
                    int length = Math.Min(data.Count - Math.Min(at, data.Count - 1), 1 + _random.Next(8));
                    data.RemoveRange(Math.Min(at, data.Count - 1), length);
                    break;
                }
            case 5 when data.Count > 0:
                {
                    int start = _random.Next(data.Count);
                    int length = Math.Min(data.Count - start, 1 + _random.Next(16));
                    data.InsertRange(at, data.GetRange(start, length));
                    break;
                }
            case 6:
                {
                    var other = seeds[_random.Next(seeds.Count)];
                    if (other.Length > 0)
                    {
                        int start = _random.Next(other.Length);
                        int length = Math.Min(other.Length - start, 1 + _random.Next(64));
                        data.InsertRange(at, other.AsSpan(start, length).ToArray());
                    }
                    break;
                }
            case 7:
                {
                    // A FRAME whose length ends anywhere near here: on an opcode boundary, inside an argument, past the end.
                    var frame = new byte[9];
                    frame[0] = 0x95;
                    long length = Math.Max(0, data.Count - at + _random.Next(-12, 4));
                    BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(1), _random.Next(3) == 0 ? _random.Next(64) : length);
                    data.InsertRange(at, frame);
                    break;
                }
            default:
                if (data.Count > 1)
                {
                    data.RemoveRange(at == 0 ? 1 : Math.Min(at, data.Count - 1), data.Count - (at == 0 ? 1 : Math.Min(at, data.Count - 1)));
                }
                break;
        }
    }
}
