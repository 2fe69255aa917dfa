using System.Collections;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace StateDict.Integration.Tests;

/// <summary>Finds every tensor a generated object exposes (properties, nested modules, lists), with the SHA-256 of its bytes.</summary>
internal static class TensorWalker
{
    public static Dictionary<string, string> Hashes(object bound)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(bound, (key, value) => hashes.Add(key, Sha256(value)), depth: 0);
        return hashes;
    }

    /// <summary>Every bound tensor by key: <see cref="TensorView{T}"/>s, sparse and quantized tensors, meta tensors' infos.</summary>
    public static Dictionary<string, object> Tensors(object bound)
    {
        var tensors = new Dictionary<string, object>(StringComparer.Ordinal);
        Walk(bound, tensors.Add, depth: 0);
        return tensors;
    }

    /// <summary>The SHA-256 of a view's bytes (any element type), as the fixtures' expected.json give it.</summary>
    public static string Sha256(object view)
    {
        var bytes = (byte[])typeof(TensorWalker).GetMethod(nameof(Bytes), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(view.GetType().GetGenericArguments()[0]).Invoke(null, [view])!;
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    private static void Walk(object node, Action<string, object> found, int depth)
    {
        Assert.True(depth < 64, "generated object graph is unexpectedly deep");
        foreach (var property in node.GetType().GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "Report")
            {
                continue;
            }
            var value = property.GetValue(node);
            switch (value)
            {
                case null:
                    break;
                case IEnumerable items when value.GetType().Namespace != "System":
                    foreach (var item in items)
                    {
                        Visit(item!, found, depth);
                    }
                    break;
                default:
                    Visit(value, found, depth);
                    break;
            }
        }
    }

    private static void Visit(object value, Action<string, object> found, int depth)
    {
        var type = value.GetType();
        var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : null;
        string? key = value switch
        {
            QuantizedTensor q => q.Info.Key,
            TensorInfo info => info.Key,
            _ when generic == typeof(TensorView<>) => (string)type.GetProperty(nameof(TensorView<float>.Key))!.GetValue(value)!,
            _ when generic == typeof(SparseTensor<>) => ((SparseTensorInfo)type.GetProperty(nameof(SparseTensor<float>.Info))!.GetValue(value)!).Key,
            _ => null,
        };
        if (key is not null)
        {
            try
            {
                found(key, value);
            }
            catch (ArgumentException)
            {
                Assert.Fail($"tensor {key} reached twice");
            }
        }
        else if (type.Namespace?.StartsWith("StateDict.Integration.Tests", StringComparison.Ordinal) == true)
        {
            Walk(value, found, depth + 1);
        }
    }

    private static byte[] Bytes<T>(TensorView<T> view) where T : unmanaged => MemoryMarshal.AsBytes(view.Span).ToArray();
}
