namespace StateDict;

/// <summary>The container a checkpoint was written in.</summary>
public enum CheckpointFormat
{
    /// <summary><c>torch.save</c> since PyTorch 1.6: a zip of <c>data.pkl</c> and one record per storage.</summary>
    Zip,
    /// <summary><c>torch.save(..., _use_new_zipfile_serialization=False)</c> and PyTorch before 1.6: concatenated pickles then raw storages.</summary>
    Legacy,
    /// <summary>safetensors (Hugging Face): an 8-byte length, a JSON header, then the tensors' bytes; no pickle.</summary>
    Safetensors,
    /// <summary>
    /// A sharded checkpoint's index (<c>model.safetensors.index.json</c>, <c>pytorch_model.bin.index.json</c>): its
    /// <c>weight_map</c> names the shard file of each key; the shards open together as one checkpoint.
    /// </summary>
    Sharded,
    /// <summary>
    /// A TorchScript archive (<c>torch.jit.save</c>): the zip layout plus <c>constants.pkl</c> and <c>code/</c>. Its
    /// parameters and buffers are read from the pickled module tree under the keys <c>state_dict()</c> gives; the code is never read.
    /// </summary>
    TorchScript,
    /// <summary>
    /// A plain Python pickle (<c>pickle.dump(state_dict, f)</c>): storages embedded as legacy torch.save bytes behind
    /// <c>torch.storage._load_from_bytes</c>, read as data.
    /// </summary>
    Pickle,
}
