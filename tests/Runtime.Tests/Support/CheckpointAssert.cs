using System.Security.Cryptography;
using Xunit;

namespace StateDict.Tests.Support;

/// <summary>Assertions that a checkpoint holds exactly what PyTorch says a fixture holds.</summary>
public static class CheckpointAssert
{
    /// <summary>
    /// Same keys in the same order, and for each tensor the dtype, shape, strides, storage offset, parameter flag and
    /// SHA-256 of its row-major bytes. <paramref name="isParameter"/> overrides the expected flag when the file under
    /// test pickles tensors differently from the fixture (whole-module pickles hold nn.Parameter).
    /// </summary>
    public static void TensorsMatch(Expected expected, Checkpoint checkpoint, bool? isParameter = null)
    {
        Assert.Equal(expected.Tensors.Select(t => t.Key), checkpoint.Tensors.Keys);
        foreach (var want in expected.Tensors)
        {
            var info = checkpoint.Tensors[want.Key];
            Assert.Equal(want.DType, info.DType.Name());
            Assert.Equal(want.Shape, info.Shape);
            Assert.Equal(want.Strides, info.Strides);
            Assert.Equal(want.StorageOffset, info.StorageOffset);
            Assert.True((isParameter ?? want.IsParameter) == info.IsParameter, $"{want.Key}: IsParameter is {info.IsParameter}");
            Assert.Equal(want.Sha256, Sha256(checkpoint, want.Key));
        }
    }

    /// <summary>The SHA-256 of a tensor's contiguous, row-major, little-endian bytes, as the fixtures record it.</summary>
    public static string Sha256(Checkpoint checkpoint, string key) =>
        Convert.ToHexStringLower(SHA256.HashData(checkpoint.ReadBytes(key).Span));
}
