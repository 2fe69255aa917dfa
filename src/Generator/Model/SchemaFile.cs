namespace StateDict.Generator.Model
{
    /// <summary>One tensor of a schema: key, canonical dtype, shape, and where its key is in the file.</summary>
    internal sealed record SchemaTensor(string Key, string DType, EquatableArray<long> Shape, LocationInfo KeyLocation);

    /// <summary>A parsed schema file: its tensors in file order, and what was wrong with it.</summary>
    internal sealed record SchemaFile(string Path, bool IsSchema, EquatableArray<SchemaTensor> Tensors, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public string FileName => System.IO.Path.GetFileName(Path);
    }
}
