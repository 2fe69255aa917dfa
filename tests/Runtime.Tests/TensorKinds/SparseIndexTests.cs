using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.TensorKinds;

/// <summary>Indices torch.load would refuse (written unchecked by torch 1.13's _unsafe constructors) are a corrupt-file error naming the key, before any dense write.</summary>
public class SparseIndexTests
{
    [Theory]
    [InlineData("coo_out_of_range", "indices[0, 1] = 3 is outside dimension 0 of size 3")]
    [InlineData("csr_unsorted", "col_indices[1] = 0 is not greater than the previous index")]
    [InlineData("csr_bad_crow", "crow_indices must start at 0")]
    public void Invalid_indices_are_refused_naming_the_key(string key, string problem)
    {
        using var checkpoint = Checkpoint.Open(Fixtures.PathOf("kinds/sparse_bad_indices.pth"));
        var error = Assert.Throws<CheckpointCorruptException>(() => checkpoint.ReadSparse<float>(key));
        Assert.Contains($"'{key}'", error.Message);
        Assert.Contains(problem, error.Message);
    }
}
