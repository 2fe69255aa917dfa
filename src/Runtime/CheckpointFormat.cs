namespace StateDict;

/// <summary>The container a checkpoint was written in.</summary>
public enum CheckpointFormat
{
    /// <summary><c>torch.save</c> since PyTorch 1.6: a zip of <c>data.pkl</c> and one record per storage.</summary>
    Zip,
    /// <summary><c>torch.save(..., _use_new_zipfile_serialization=False)</c> and PyTorch before 1.6: concatenated pickles then raw storages.</summary>
    Legacy,
}
