using System.Buffers.Binary;
using System.Numerics;
using StateDict.Tests.Pickle;

namespace StateDict.Tests.Hostile;

/// <summary>Builds pre-1.6 torch.save files: magic number, protocol version, sys_info, main pickle, key list, storages.</summary>
internal static class LegacyFiles
{
    public static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The magic number as torch.save writes it with protocol 2 (PROTO 2, LONG1, STOP).</summary>
    public static byte[] Magic() => new PickleBuilder().Proto(2).Long1(MagicNumber).Stop().ToArray();

    /// <summary>
    /// A legacy file whose first pickle is <paramref name="magic"/> and whose main pickle is <paramref name="main"/>,
    /// holding one FloatStorage <c>'0'</c> of <paramref name="floats"/> (declare it in <paramref name="main"/> to read it).
    /// </summary>
    public static byte[] Build(byte[] magic, byte[] main, params float[] floats)
    {
        var bytes = new List<byte>(magic);
        bytes.AddRange(new PickleBuilder().Proto(2).BinInt2(1001).Stop().ToArray());
        bytes.AddRange(new PickleBuilder().Proto(2).EmptyDict().BinUnicode("little_endian").NewTrue().SetItem().Stop().ToArray());
        bytes.AddRange(main);
        bytes.AddRange(new PickleBuilder().Proto(2).EmptyList().BinUnicode("0").Append().Stop().ToArray());
        var count = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, floats.Length);
        bytes.AddRange(count);
        bytes.AddRange(TorchZip.Floats(floats));
        return [.. bytes];
    }

    /// <summary>The bytes <see cref="Build"/> writes after the main pickle: the key list pickle and the storage.</summary>
    public static int KeyListAndStorageLength(int floats) =>
        new PickleBuilder().Proto(2).EmptyList().BinUnicode("0").Append().Stop().Position + 8 + (4 * floats);

    /// <summary><c>{'w': tensor(floats)}</c> over storage '0', as the legacy main pickle writes it (5-tuple persistent id).</summary>
    public static byte[] StateDict(int numel) =>
        new PickleBuilder().Proto(2).EmptyDict().BinUnicode("w").Tensor("FloatStorage", "0", numel, 0, [numel], [1]).SetItem().Stop().ToArray();
}
