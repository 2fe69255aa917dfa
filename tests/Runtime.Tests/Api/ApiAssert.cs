using System.Runtime.InteropServices;
using System.Security.Cryptography;
using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Api;

/// <summary>Assertions shared by the API tests: a view against what PyTorch recorded in NAME.expected.json.</summary>
internal static class ApiAssert
{
    /// <summary>SHA-256 of a view's contiguous row-major little-endian bytes (the rule expected.json uses).</summary>
    public static string Sha256<T>(TensorView<T> view) where T : unmanaged =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(view.Span)));

    /// <summary>The view has the dtype, shape and SHA-256 PyTorch recorded for its key in <paramref name="fixture"/>.</summary>
    public static void MatchesExpected<T>(string fixture, TensorView<T> view) where T : unmanaged
    {
        var want = Fixtures.ExpectedFor(fixture).Tensors.Single(t => t.Key == view.Key);
        Assert.Equal(want.DType, view.DType.Name());
        Assert.Equal(want.Shape, view.Shape);
        Assert.Equal(want.Sha256, Sha256(view));
    }

    /// <summary>The array and offset a view's memory lies in; fails if it is not array-backed.</summary>
    public static ArraySegment<T> Segment<T>(TensorView<T> view) where T : unmanaged
    {
        Assert.True(MemoryMarshal.TryGetArray(view.Memory, out var segment), $"'{view.Key}' is not backed by an array");
        return segment;
    }
}
