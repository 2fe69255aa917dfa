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
        Walk(bound, hashes, depth: 0);
        return hashes;
    }

    private static void Walk(object node, Dictionary<string, string> hashes, int depth)
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
                        Visit(item!, hashes, depth);
                    }
                    break;
                default:
                    Visit(value, hashes, depth);
                    break;
            }
        }
    }

    private static void Visit(object value, Dictionary<string, string> hashes, int depth)
    {
        var type = value.GetType();
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(TensorView<>))
        {
            var key = (string)type.GetProperty(nameof(TensorView<float>.Key))!.GetValue(value)!;
            var bytes = (byte[])typeof(TensorWalker).GetMethod(nameof(Bytes), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type.GetGenericArguments()[0]).Invoke(null, [value])!;
            Assert.True(hashes.TryAdd(key, Convert.ToHexStringLower(SHA256.HashData(bytes))), $"tensor {key} reached twice");
        }
        else if (type.Namespace?.StartsWith("StateDict.Integration.Tests", StringComparison.Ordinal) == true)
        {
            Walk(value, hashes, depth + 1);
        }
    }

    private static byte[] Bytes<T>(TensorView<T> view) where T : unmanaged => MemoryMarshal.AsBytes(view.Span).ToArray();
}
