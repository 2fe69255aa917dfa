namespace StateDict;

/// <summary>How a tensor's elements are laid out, as PyTorch names the layout (<c>torch.strided</c>, <c>torch.sparse_coo</c>, ...).</summary>
public enum TensorLayout
{
    /// <summary><c>torch.strided</c>: a dense tensor (also a quantized tensor's integer representation).</summary>
    Strided,
    /// <summary><c>torch.sparse_coo</c>: <c>indices</c> [sparse_dim, nnz] (int64) and <c>values</c> [nnz, dense dims...].</summary>
    SparseCoo,
    /// <summary><c>torch.sparse_csr</c>: <c>crow_indices</c>, <c>col_indices</c> and <c>values</c> [nnz, dense dims...].</summary>
    SparseCsr,
    /// <summary><c>torch.sparse_csc</c>: <c>ccol_indices</c>, <c>row_indices</c> and <c>values</c> [nnz, dense dims...].</summary>
    SparseCsc,
    /// <summary><c>torch.sparse_bsr</c>: <c>crow_indices</c>, <c>col_indices</c> and <c>values</c> [nnz, block rows, block cols, dense dims...].</summary>
    SparseBsr,
    /// <summary><c>torch.sparse_bsc</c>: <c>ccol_indices</c>, <c>row_indices</c> and <c>values</c> [nnz, block rows, block cols, dense dims...].</summary>
    SparseBsc,
}

/// <summary>PyTorch's names of <see cref="TensorLayout"/>s.</summary>
public static class TensorLayoutInfo
{
    /// <summary>The layout's name without <c>torch.</c>: <c>strided</c>, <c>sparse_coo</c>, <c>sparse_csr</c>, ...</summary>
    public static string Name(this TensorLayout layout) => layout switch
    {
        TensorLayout.Strided => "strided",
        TensorLayout.SparseCoo => "sparse_coo",
        TensorLayout.SparseCsr => "sparse_csr",
        TensorLayout.SparseCsc => "sparse_csc",
        TensorLayout.SparseBsr => "sparse_bsr",
        TensorLayout.SparseBsc => "sparse_bsc",
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    /// <summary>Parses <c>sparse_csr</c> or <c>torch.sparse_csr</c>.</summary>
    public static bool TryParse(string name, out TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(name);
        string bare = name.StartsWith("torch.", StringComparison.Ordinal) ? name[6..] : name;
        foreach (var candidate in Enum.GetValues<TensorLayout>())
        {
            if (candidate.Name() == bare)
            {
                layout = candidate;
                return true;
            }
        }
        layout = default;
        return false;
    }

    /// <summary>True for CSR, CSC, BSR and BSC: one compressed and one plain index per element or block.</summary>
    public static bool IsCompressed(this TensorLayout layout) => layout is TensorLayout.SparseCsr or TensorLayout.SparseCsc or TensorLayout.SparseBsr or TensorLayout.SparseBsc;

    /// <summary>True for BSR and BSC, whose values are blocks.</summary>
    public static bool IsBlocked(this TensorLayout layout) => layout is TensorLayout.SparseBsr or TensorLayout.SparseBsc;

    /// <summary>True for CSR and BSR, whose compressed dimension is the rows.</summary>
    public static bool CompressesRows(this TensorLayout layout) => layout is TensorLayout.SparseCsr or TensorLayout.SparseBsr;

    /// <summary>The component names of a sparse layout, in the order torch pickles them.</summary>
    public static IReadOnlyList<string> ComponentNames(this TensorLayout layout) => layout switch
    {
        TensorLayout.SparseCoo => ["indices", "values"],
        TensorLayout.SparseCsr or TensorLayout.SparseBsr => ["crow_indices", "col_indices", "values"],
        TensorLayout.SparseCsc or TensorLayout.SparseBsc => ["ccol_indices", "row_indices", "values"],
        _ => [],
    };
}
