using System.ComponentModel;

namespace StateDict;

/// <summary>The reads of sparse, quantized and meta entries (docs/tensor-kinds.md, "Binding").</summary>
public sealed partial class SchemaBinding
{
    /// <summary>Reads the sparse tensor the schema calls <paramref name="key"/>, its indices checked against its shape.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public SparseTensor<T> Sparse<T>(string key) where T : unmanaged => _checkpoint.ReadSparse<T>(_prefix + key);

    /// <summary>Reads the quantized tensor the schema calls <paramref name="key"/>: integer representation and parameters.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public QuantizedTensor Quantized(string key) => _checkpoint.ReadQuantized(_prefix + key);

    /// <summary>The meta tensor the schema calls <paramref name="key"/>: dtype and shape only (reading its data is an error).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TensorInfo Meta(string key) => _checkpoint.Tensors[_prefix + key];
}
