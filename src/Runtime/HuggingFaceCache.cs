namespace StateDict;

/// <summary>
/// Finds models in the local cache of Python's <c>huggingface_hub</c> (what <c>from_pretrained</c> and
/// <c>hf download</c> fill), offline: it only looks at folders, never at the network.
/// </summary>
/// <example>
/// <code>
/// string folder = HuggingFaceCache.Find("openai-community/gpt2");          // .../models--openai-community--gpt2/snapshots/HASH
/// using var ckpt = Checkpoint.Open(folder);                                 // model.safetensors in it
/// </code>
/// </example>
public static class HuggingFaceCache
{
    /// <summary>
    /// The cache folder <c>huggingface_hub</c> uses: <c>HF_HUB_CACHE</c>, else <c>HUGGINGFACE_HUB_CACHE</c>, else
    /// <c>HF_HOME/hub</c>, else <c>XDG_CACHE_HOME/huggingface/hub</c>, else <c>~/.cache/huggingface/hub</c>.
    /// </summary>
    public static string DefaultCacheDirectory => CacheSetting().Folder;

    /// <summary>
    /// The snapshot folder of <paramref name="repoId"/> at <paramref name="revision"/>: a branch or tag recorded under
    /// <c>refs/</c> (<c>main</c>, <c>refs/pr/1</c>) or a commit hash with a snapshot.
    /// </summary>
    /// <param name="repoId">The model's id, <c>org/name</c> (or <c>name</c>).</param>
    /// <param name="revision">A branch, tag or commit hash; <c>main</c> by default.</param>
    /// <param name="cacheDirectory">The hub cache folder; <see cref="DefaultCacheDirectory"/> when null.</param>
    /// <exception cref="DirectoryNotFoundException">
    /// The model or revision is not cached; the message names the folders searched and the revisions present.
    /// </exception>
    public static string Find(string repoId, string revision = "main", string? cacheDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(repoId);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        string modelFolder = "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);
        string cache = cacheDirectory ?? DefaultCacheDirectory;
        string repo = Path.Combine(cache, modelFolder);
        if (!Directory.Exists(repo))
        {
            throw new DirectoryNotFoundException(
                $"model '{repoId}' is not in the Hugging Face cache: no {modelFolder} in {Describe(cacheDirectory)}");
        }
        string? commit = ReadRef(repo, revision);
        string snapshot = Path.Combine(repo, "snapshots", commit ?? revision);
        if (!IsSafeSegment(commit ?? revision) || !Directory.Exists(snapshot))
        {
            throw new DirectoryNotFoundException(
                $"model '{repoId}' has no revision '{revision}' in the Hugging Face cache ({repo}); present: {Present(repo)}");
        }
        return snapshot;
    }

    private static string? ReadRef(string repo, string revision)
    {
        if (revision.Split('/').Any(s => s is "" or "." or ".."))
        {
            return null;
        }
        string file = Path.Combine([repo, "refs", .. revision.Split('/')]);
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    private static bool IsSafeSegment(string name) =>
        name.Length > 0 && name is not ("." or "..") && name.IndexOfAny(['/', '\\']) < 0;

    private static string Present(string repo)
    {
        var refs = Path.Combine(repo, "refs");
        var names = Directory.Exists(refs)
            ? Directory.EnumerateFiles(refs, "*", SearchOption.AllDirectories)
                .Select(f => $"{Path.GetRelativePath(refs, f).Replace('\\', '/')} -> {File.ReadAllText(f).Trim()}")
            : [];
        var snapshots = Path.Combine(repo, "snapshots");
        var hashes = Directory.Exists(snapshots) ? Directory.EnumerateDirectories(snapshots).Select(Path.GetFileName) : [];
        var present = names.Order(StringComparer.Ordinal).Concat(hashes.Order(StringComparer.Ordinal).Select(h => $"snapshot {h}")).ToList();
        return present.Count == 0 ? "nothing" : string.Join(", ", present);
    }

    private static string Describe(string? cacheDirectory) =>
        cacheDirectory is not null
            ? cacheDirectory
            : $"{CacheSetting().Folder} (from {CacheSetting().Source})";

    /// <summary>The cache folder, with the setting it came from (for messages).</summary>
    private static (string Folder, string Source) CacheSetting()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub)
        {
            return (hub, "HF_HUB_CACHE");
        }
        if (Environment.GetEnvironmentVariable("HUGGINGFACE_HUB_CACHE") is { Length: > 0 } legacy)
        {
            return (legacy, "HUGGINGFACE_HUB_CACHE");
        }
        if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home)
        {
            return (Path.Combine(home, "hub"), "HF_HOME");
        }
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg)
        {
            return (Path.Combine(xdg, "huggingface", "hub"), "XDG_CACHE_HOME");
        }
        string user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return (Path.Combine(user, ".cache", "huggingface", "hub"), "the default ~/.cache/huggingface/hub");
    }
}
