namespace StateDict;

/// <summary>How far a load has come: bytes and storages read so far, of the totals.</summary>
public readonly record struct LoadProgress(long BytesDone, long BytesTotal, int StoragesDone, int StoragesTotal)
{
    /// <summary>Fraction done, 0 to 1.</summary>
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesDone / BytesTotal;
}
