using System.Numerics;

namespace StateDict.Pickle;

/// <summary>
/// What CPython can do with the objects the VM builds. Plain data (str, int, float, bool, None, tuple, list, dict, set,
/// bytes) behaves exactly as the VM models it; objects of other classes (calls, globals, persistent ids) do whatever
/// their class does, which the VM does not know.
/// </summary>
internal static class PythonObjects
{
    public static bool IsPlainData(object value) =>
        value is string or long or BigInteger or double or bool or PyNone or PyTuple or PyList or PyDict or PySet or PyBytes;

    /// <summary>
    /// Whether Python's <c>hash()</c> succeeds: not for a list, dict, set or bytearray, nor for a tuple holding one at any
    /// depth. Objects of classes the VM does not model are taken as hashable (object's default hash). Each tuple's answer
    /// is kept, so deep or shared tuples cost their size once.
    /// </summary>
    public static bool IsHashable(object value) =>
        value is PyTuple tuple ? PythonEquality.Instance.TupleHash(tuple) is not null : IsHashableScalar(value);

    /// <summary>Whether a value that is not a tuple can be hashed (its items, for a frozenset, already were).</summary>
    public static bool IsHashableScalar(object value) =>
        value is not (PyList or PyDict or PySet { Frozen: false } or PyBytes { Mutable: true });
}
