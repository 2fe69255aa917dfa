namespace StateDict.Generator.Model
{
    /// <summary>
    /// One tensor of a schema: key, canonical dtype, shape, and where its key is in the file. A sparse tensor is one
    /// entry under its own key (its components grouped), with its values' dtype and its dense shape; a quantized one has
    /// its integer representation's dtype and its logical shape.
    /// </summary>
    internal sealed record SchemaTensor(string Key, string DType, EquatableArray<long> Shape, LocationInfo KeyLocation)
    {
        public TensorKind Kind { get; init; }

        /// <summary>Sparse: the layout (<c>sparse_coo</c>, ...).</summary>
        public string? Layout { get; init; }

        /// <summary>Quantized: the quantized dtype (<c>qint8</c>, ...).</summary>
        public string? QuantizedDType { get; init; }

        /// <summary>Quantized: the qscheme (<c>per_tensor_affine</c>, ...).</summary>
        public string? QScheme { get; init; }
    }

    /// <summary>A parsed schema file: its tensors in file order, and what was wrong with it.</summary>
    internal sealed record SchemaFile(string Path, bool IsSchema, EquatableArray<SchemaTensor> Tensors, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public string FileName => System.IO.Path.GetFileName(Path);
    }
}
