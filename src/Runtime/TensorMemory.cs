namespace StateDict;

/// <summary>Where tensor bytes live once read. Whatever the choice, a view is valid until its checkpoint is disposed.</summary>
public enum TensorMemory
{
    /// <summary>
    /// <see cref="NativeArena"/> when the checkpoint's storages total 16 MiB or more or number 4,096 or more (many small
    /// tensors: as managed arrays each would be an object for the GC to promote), <see cref="Managed"/> otherwise.
    /// The default, and the choice for big files: it never pays <see cref="Managed"/>'s cost on them (about ten times
    /// slower on a 2 GB checkpoint; see there).
    /// </summary>
    Auto,

    /// <summary>
    /// Each storage is read once into a managed array (views stay usable even after dispose). Costs on big files:
    /// every array is fresh GC memory that the read faults in; arrays of 4 MiB or more are advised to use 2 MiB
    /// pages on Linux first (as <see cref="NativeArena"/> is). Measured on a 2 GB checkpoint (2 cores, loaded
    /// machine): 2.3–3.8 s, against 0.22–0.6 s through the arena (11–12 s before the huge-page advice). The GC also
    /// counts the arrays against its budget (collections while loading, memory returned only when the views are
    /// unreachable). For files of more than a few hundred MB prefer <see cref="Auto"/>
    /// (the arena) or <see cref="MemoryMapped"/>; pick this for small files or views that must outlive the checkpoint.
    /// Asked for on storages of 256 MiB or more, it is done, and <see cref="Checkpoint.Warnings"/> (and a generated
    /// class's <see cref="BindingReport.Warnings"/>) says what it costs; nothing is logged.
    /// </summary>
    Managed,

    /// <summary>
    /// Each storage is read once into one native, 2 MiB-aligned block per checkpoint, advised to use huge pages on
    /// Linux so that first touch costs ~30 times less. The block is freed when the checkpoint is disposed; views then
    /// throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    NativeArena,

    /// <summary>
    /// Zero copy: contiguous tensors are views straight into the memory-mapped file (torch's zip records are stored
    /// uncompressed and 64-byte aligned), so opening costs the pickle only and pages are read when touched.
    /// Non-contiguous views, big-endian files, bool tensors and compressed or legacy records fall back to a copy of
    /// that storage. Unmapped when the checkpoint is disposed; views then throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    MemoryMapped,
}
