using System.Buffers.Binary;
using System.Numerics;
using StateDict.Pickle;
using StateDict.Safety;
using StateDict.Torch;

namespace StateDict.Containers;

/// <summary>
/// The bytes a plain pickle (<c>pickle.dump</c> of tensors) passes to <c>torch.storage._load_from_bytes</c>: what
/// <c>torch.save(storage, _use_new_zipfile_serialization=False)</c> wrote for one storage. Five legacy pickles (magic
/// number, protocol version, sys_info, the storage's persistent id, the key list), then the storage: an int64 element
/// count and its raw bytes. Parsed in memory by the same VM under the same budgets, every pickle checked against the
/// allow-list; a payload whose object is itself a <c>_load_from_bytes</c> call is followed at most
/// <see cref="MaxDepth"/> levels deep. Zip payloads (what some newer PyTorch versions embed) are refused, clearly.
/// </summary>
internal sealed class EmbeddedPayload
{
    /// <summary>How deep payloads may nest (a payload whose object is another payload); the scanner uses the same bound.</summary>
    public const int MaxDepth = 3;

    private static readonly string[] Parts = ["magic number", "protocol version", "sys_info", "main", "storage key list"];

    private readonly byte[] _bytes;
    private readonly IReadOnlyList<object> _keys;
    private readonly int _dataStart;

    private EmbeddedPayload(byte[] bytes, PyPersistentId id, IReadOnlyList<object> keys, int dataStart, PickleSource source)
    {
        _bytes = bytes;
        Id = id;
        _keys = keys;
        _dataStart = dataStart;
        Source = source;
    }

    /// <summary>The payload's storage reference <c>('storage', torch.XStorage, key, location, numel[, view])</c>.</summary>
    public PyPersistentId Id { get; }

    /// <summary>The payload's main pickle, for messages about the storage reference.</summary>
    public PickleSource Source { get; }

    /// <summary>Whether <paramref name="value"/> is a <c>torch.storage._load_from_bytes(...)</c> call.</summary>
    public static bool IsCall(object value) => value is PyCall { Kind: CallKind.Reduce, Global.FullName: AllowList.LoadFromBytes };

    /// <summary>
    /// What makes two calls the same payload: their argument object, by reference (the memo shares it). Null when the
    /// call does not have exactly one argument (<see cref="Parse"/> then says what is wrong).
    /// </summary>
    public static object? Identity(PyCall call) => call.Args.Items is [var argument] ? argument : null;

    /// <summary>What a payload's pickles may name: the allow-list, and <c>_load_from_bytes</c> for a payload nesting another.</summary>
    private static readonly ReadPolicy PayloadPolicy = new(CheckpointFormat.Pickle);

    /// <summary>Parses the payload of <paramref name="call"/> (a <c>_load_from_bytes</c> call of the pickle <paramref name="outer"/>).</summary>
    public static EmbeddedPayload Parse(PyCall call, PickleSource outer, CheckpointLimits limits, int depth = 1)
    {
        string where = $"{outer.Part} → _load_from_bytes payload (byte {call.Offset})";
        if (depth > MaxDepth)
        {
            throw new CheckpointCorruptException(outer.FilePath,
                $"{where}: torch.save payloads nested more than {MaxDepth} deep (a payload whose object is another payload)");
        }
        if (call.Args.Items is not [var argument])
        {
            throw outer.Corrupt(call.Offset, $"_load_from_bytes takes one bytes argument, got ({string.Join(", ", call.Args.Items.Select(PyValue.TypeName))})");
        }
        var bytes = PayloadBytes.Reduce(argument, limits.MaxPickleBytes, out string why)
            ?? throw new CheckpointUnsafeException(outer.FilePath,
                $"refused: {where}: the argument of torch.storage._load_from_bytes cannot be reduced to bytes without running Python ({why}); Python would unpickle whatever it makes, so the payload cannot be checked",
                [AllowList.LoadFromBytes]);
        if (bytes.AsSpan().StartsWith("PK\x03\x04"u8))
        {
            throw new CheckpointFormatException(outer.FilePath,
                $"{where}: the embedded storage is a torch.save zip archive (as newer PyTorch versions embed them); reading those is not supported. Re-save the tensors with torch.save(state_dict, path).");
        }
        if (!bytes.AsSpan().StartsWith(LegacyContainer.Signature))
        {
            throw new CheckpointCorruptException(outer.FilePath, $"{where}: the {bytes.Length} bytes are not legacy torch.save bytes (no magic number)");
        }

        int position = 0;
        var results = new PickleResult[Parts.Length];
        var sources = new PickleSource[Parts.Length];
        for (int i = 0; i < Parts.Length; i++)
        {
            sources[i] = new PickleSource(outer.FilePath, $"{where}, {Parts[i]} pickle (byte {position})");
            results[i] = PickleMachine.Run(bytes.AsSpan(position), sources[i], limits);
            // A storage needs only its class; a payload nesting another needs _load_from_bytes. Nothing else is allowed.
            AllowList.Check(results[i], sources[i], PayloadPolicy);
            position += results[i].EndPosition;
        }
        if (results[0].Root is not BigInteger magic || magic != LegacyContainer.MagicNumber)
        {
            throw new CheckpointCorruptException(outer.FilePath, $"{where}: invalid magic number");
        }
        if (results[1].Root is not long protocol || protocol != LegacyContainer.ProtocolVersion)
        {
            throw new CheckpointFormatException(outer.FilePath, $"{where}: legacy protocol version {results[1].Root} is not supported (expected {LegacyContainer.ProtocolVersion})");
        }
        if (results[4].Root is not PyList keys)
        {
            throw new CheckpointCorruptException(outer.FilePath, $"{where}: the storage key list is a {PyValue.TypeName(results[4].Root)}, not a list");
        }
        switch (results[3].Root)
        {
            case PyPersistentId id:
                return new EmbeddedPayload(bytes, id, keys.Items, position, sources[3]);
            case PyCall nested when IsCall(nested):
                if (keys.Items.Count != 0)
                {
                    throw new CheckpointCorruptException(outer.FilePath, $"{where}: a payload holding another payload lists {keys.Items.Count} storages of its own");
                }
                return Parse(nested, sources[3], limits, depth + 1);
            default:
                throw new CheckpointFormatException(outer.FilePath,
                    $"{where}: the payload holds a {PyValue.TypeName(results[3].Root)}, not a storage");
        }
    }

    /// <summary>
    /// The storage's raw bytes, after checking that the key list names exactly this storage and that the element count
    /// and the bytes present match what the storage reference declares.
    /// </summary>
    public ReadOnlyMemory<byte> Data(string key, long byteLength, int elementSize)
    {
        if (_keys is not [string listed] || listed != key)
        {
            throw new CheckpointCorruptException(Source.FilePath,
                $"{Source.Part}: the storage key list is [{string.Join(", ", _keys.Select(k => k is string s ? $"'{s}'" : PyValue.TypeName(k)))}] but the payload's storage is '{key}'");
        }
        if (_bytes.Length - _dataStart < 8)
        {
            throw new CheckpointCorruptException(Source.FilePath, $"{Source.Part}: the payload ends before the element count of storage '{key}' (truncated?)");
        }
        long count = BinaryPrimitives.ReadInt64LittleEndian(_bytes.AsSpan(_dataStart));
        if (count < 0 || count > long.MaxValue / elementSize || count * elementSize != byteLength)
        {
            throw new CheckpointCorruptException(Source.FilePath,
                $"{Source.Part}: storage '{key}' records {count} elements but its reference declares {byteLength / elementSize}");
        }
        long start = _dataStart + 8L;
        if (byteLength > _bytes.Length - start)
        {
            throw new CheckpointCorruptException(Source.FilePath,
                $"{Source.Part}: storage '{key}' needs {byteLength} bytes but the payload has {_bytes.Length - start} after its header (truncated?)");
        }
        return _bytes.AsMemory((int)start, (int)byteLength);
    }
}
