using System.ComponentModel;

namespace StateDict;

/// <summary>The reads generated classes of your own shape use: conversion, dim-0 chunks and fallback keys.</summary>
public sealed partial class SchemaBinding
{
    /// <summary>The tensors <c>prefix0</c>, <c>prefix1</c>, … of a parameter list, each read as <typeparamref name="T"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IReadOnlyList<TensorView<T>> TensorListAs<T>(string modulePrefix) where T : unmanaged
    {
        var items = new List<TensorView<T>>();
        for (int i = 0; Has(Item(modulePrefix, i)); i++)
        {
            items.Add(Tensor<T>(Item(modulePrefix, i)));
        }
        return items;
    }

    /// <summary>
    /// Reads a bound tensor as <typeparamref name="T"/>: <paramref name="key"/>, or <paramref name="fallback"/> when the
    /// checkpoint has no <paramref name="key"/> (tied weights); with <paramref name="chunks"/> &gt; 0, only piece
    /// <paramref name="chunk"/> of <c>torch.chunk(tensor, chunks, dim=0)</c> (a slice: a view where the layout allows).
    /// Keys are below the binding's prefix.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TensorView<T> Tensor<T>(string key, string? fallback = null, int chunk = 0, int chunks = 0) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(key);
        string full = _prefix + key;
        if (fallback != null && !_checkpoint.Tensors.ContainsKey(full))
        {
            full = _prefix + fallback;
        }
        var info = _checkpoint.Tensors[full];
        bool exact = info.DType.ElementType() == typeof(T);
        if (chunks <= 0)
        {
            return exact ? _checkpoint.Read<T>(full) : _checkpoint.ReadAs<T>(full);
        }
        if (info.Shape.Length == 0 || info.Shape[0] % chunks != 0 || chunk < 0 || chunk >= chunks)
        {
            string problem = $"'{full}' with shape [{string.Join(", ", info.Shape)}] cannot be split into {chunks} equal chunks along dimension 0 (chunk {chunk} asked for)";
            throw new CheckpointSchemaMismatchException(_checkpoint.Path, problem, [problem]);
        }
        long rows = info.Shape[0] / chunks;
        var range = new Range(checked((int)(chunk * rows)), checked((int)((chunk + 1) * rows)));
        return exact ? _checkpoint.ReadSlice<T>(full, range) : _checkpoint.ReadSliceAs<T>(full, range);
    }
}
