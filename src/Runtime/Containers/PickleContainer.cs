using StateDict.Pickle;
using StateDict.Torch;

namespace StateDict.Containers;

/// <summary>
/// A plain pickle (<c>pickle.dump(state_dict, f)</c>, usually <c>.pkl</c>): one pickle and nothing else. Its storages
/// are inside it, each a <c>torch.storage._load_from_bytes(bytes)</c> call whose bytes are legacy torch.save output;
/// <see cref="StorageTable"/> parses them as tensors name them (see <see cref="EmbeddedPayload"/>) and hands their bytes
/// over in the declarations, so storages are served from memory, never mapped.
/// <para>
/// Opening checks more than the main pickle's globals: pickles stacked behind it and every embedded payload (zip ones
/// included) are scanned, and any global there that is not allowed refuses the file, as before this format was read.
/// </para>
/// </summary>
internal sealed class PickleContainer : IContainer
{
    private static readonly ReadPolicy PicklePolicy = new(CheckpointFormat.Pickle);

    private readonly CheckpointFile _file;
    private readonly Dictionary<string, ReadOnlyMemory<byte>> _storages = new(StringComparer.Ordinal);
    private readonly MainPickle _pickle;

    private PickleContainer(CheckpointFile file, PickleResult pickle, PickleSource source)
    {
        _file = file;
        _pickle = new MainPickle(pickle, source);
        MainSource = source;
    }

    public CheckpointFormat Format => CheckpointFormat.Pickle;

    public PickleSource MainSource { get; }

    // Embedded storages are legacy torch.save output, which is little-endian whatever the writer's machine.
    public bool BigEndian => false;

    /// <summary>
    /// Runs the pickle, unless the detector already did; its globals are checked when it is read. A pickle whose value
    /// is the legacy magic number opens the file as legacy, as <c>torch.load</c> reads it: never as a plain pickle.
    /// </summary>
    public static IContainer Open(CheckpointFile file, CheckpointLimits limits, PickleResult? pickle = null)
    {
        var source = new PickleSource(file.Path, "pickle");
        try
        {
            pickle ??= PickleMachine.Run(file.MapPrefix(limits.MaxPickleBytes), source, limits, refused: PicklePolicy.Refuses);
        }
        catch (CheckpointCorruptException e) when (file.Length > limits.MaxPickleBytes)
        {
            throw new CheckpointFormatException(file.Path,
                $"a plain pickle of {file.Length} bytes holds its tensors inside the pickle, which is over the budget of {limits.MaxPickleBytes} bytes (CheckpointLimits.MaxPickleBytes): {e.Problem}", e);
        }
        return LegacyContainer.IsMagicNumber(pickle.Root) ? LegacyContainer.Open(file, limits) : new PickleContainer(file, pickle, source);
    }

    public TorchTree ReadTree(CheckpointLimits limits) => Read(limits, allowModulePickles: false);

    public TorchTree ReadTreeAllowingModulePickles(CheckpointLimits limits) => Read(limits, allowModulePickles: true);

    /// <summary>Refuses the file if any of its pickles names a global the policy does not accept, then reads the main one.</summary>
    private TorchTree Read(CheckpointLimits limits, bool allowModulePickles)
    {
        var policy = new ReadPolicy(CheckpointFormat.Pickle, allowModulePickles);
        var pickle = _pickle.Take();
        AllowList.Check(pickle, MainSource, policy);
        RefuseHiddenGlobals(_file, limits, allowModulePickles);
        return TorchReader.Read(pickle, MainSource, limits, policy);
    }


    public IReadOnlyDictionary<string, StorageLocation> LocateStorages(IReadOnlyCollection<StorageDecl> storages)
    {
        var located = new Dictionary<string, StorageLocation>(storages.Count, StringComparer.Ordinal);
        foreach (var storage in storages)
        {
            if (storage.Embedded is not { } bytes)
            {
                throw new CheckpointFormatException(_file.Path,
                    $"pickle byte {storage.PickleOffset}: storage '{storage.Key}' is a persistent id, which a plain pickle cannot resolve (pickle.load would fail); only storages embedded by torch.storage._load_from_bytes are read");
            }
            _storages.Add(storage.Key, bytes);
            // Not a file offset: marked compressed so that no memory mode maps it.
            located.Add(storage.Key, new StorageLocation(storage.Key, $"the _load_from_bytes payload of storage '{storage.Key}' (pickle byte {storage.PickleOffset})", -1, bytes.Length, Compressed: true));
        }
        return located;
    }

    public void ReadStorage(StorageLocation location, long start, Span<byte> destination) =>
        _storages[location.Key].Span.Slice(checked((int)start), destination.Length).CopyTo(destination);

    public void Dispose()
    {
        // The file belongs to the checkpoint; the payloads are managed memory.
    }

    /// <summary>
    /// What the main pickle's globals do not show: pickles stacked behind it (<c>torch.load</c> reads five from a
    /// legacy file written with a protocol other than 2, which lacks the usual signature) and the torch.save bytes
    /// embedded behind <c>_load_from_bytes</c>. The scanner reads both; any global it does not allow refuses the file,
    /// except, under <see cref="LoadOptions.AllowModulePickles"/>, classes it rates <see cref="GlobalRisk.UnknownClass"/>.
    /// </summary>
    private static void RefuseHiddenGlobals(CheckpointFile file, CheckpointLimits limits, bool allowModulePickles)
    {
        var report = CheckpointScanner.Scan(file.Path, limits);
        var found = report.Pickles
            .SelectMany(p => p.Globals
                .Where(g => g.Risk != GlobalRisk.Allowed && !(allowModulePickles && g.Risk == GlobalRisk.UnknownClass))
                .Select(g => (p.Part, Global: g)))
            .ToList();
        if (found.Count == 0)
        {
            return;
        }
        var names = found.Select(f => f.Global.Name).Distinct().ToList();
        string listed = string.Join(", ", found.Select(f => $"{f.Global.Name} ({f.Part}, byte {f.Global.Offset})"));
        throw new CheckpointUnsafeException(file.Path,
            $"refused: a pickle stacked behind or embedded in the first one references {(names.Count == 1 ? "a global" : "globals")} outside the allow-list: {listed}. " +
            $"Loading it with Python's pickle or torch.load would import and call {(names.Count == 1 ? "it" : "them")}; StateDict executed nothing.",
            names);
    }
}
