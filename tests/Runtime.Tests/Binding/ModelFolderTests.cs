using StateDict.Tests.Support;
using Xunit;

namespace StateDict.Tests.Binding;

/// <summary>Model folders and the Python hub cache, laid out exactly as <c>huggingface_hub</c> lays them out.</summary>
public sealed class ModelFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("statedict-folder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_folder_opens_its_sharded_index_as_one_checkpoint()
    {
        var folder = Path.Combine(_root, "model");
        CopyFolder(Fixtures.PathOf("sharded"), folder, "model.safetensors.index.json", "model-0000");
        using var checkpoint = Checkpoint.Open(folder);
        Assert.Equal(Path.Combine(folder, "model.safetensors.index.json"), checkpoint.Path);
        SourceTests.AssertTensors(Fixtures.ExpectedFor("sharded/model.safetensors.index.json"), checkpoint);
    }

    [Fact]
    public void Single_file_safetensors_comes_before_the_index_and_pytorch_model_bin()
    {
        var folder = Path.Combine(_root, "both");
        CopyFolder(Fixtures.PathOf("sharded"), folder, "model.safetensors.index.json", "model-0000");
        File.Copy(Fixtures.PathOf("mlp.pth"), Path.Combine(folder, "pytorch_model.bin"));
        Assert.EndsWith("model.safetensors.index.json", Checkpoint.Open(folder).Path, StringComparison.Ordinal);
        File.Copy(Fixtures.PathOf("safetensors/mlp.safetensors"), Path.Combine(folder, "model.safetensors"));
        using var checkpoint = Checkpoint.Open(folder);
        Assert.EndsWith("model.safetensors", checkpoint.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_a_checkpoint_says_what_it_looked_for()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(folder));
        Assert.Contains("model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cache_resolves_refs_to_snapshots_offline()
    {
        var cache = Path.Combine(_root, "hub");
        string main = MakeSnapshot(cache, "org/tiny", "0123456789abcdef0123456789abcdef01234567", "main");
        string pr = MakeSnapshot(cache, "org/tiny", "fedcba9876543210fedcba9876543210fedcba98", "refs/pr/1");

        Assert.Equal(main, HuggingFaceCache.Find("org/tiny", cacheDirectory: cache));
        Assert.Equal(pr, HuggingFaceCache.Find("org/tiny", "refs/pr/1", cache));
        Assert.Equal(pr, HuggingFaceCache.Find("org/tiny", "fedcba9876543210fedcba9876543210fedcba98", cache));
        using var checkpoint = Checkpoint.Open(HuggingFaceCache.Find("org/tiny", cacheDirectory: cache));
        SourceTests.AssertTensors(Fixtures.ExpectedFor("safetensors/mlp.safetensors"), checkpoint);
    }

    [Fact]
    public void Missing_models_and_revisions_name_what_was_searched_and_what_is_there()
    {
        var cache = Path.Combine(_root, "hub");
        MakeSnapshot(cache, "org/tiny", "0123456789abcdef0123456789abcdef01234567", "main");

        var model = Assert.Throws<DirectoryNotFoundException>(() => HuggingFaceCache.Find("org/other", cacheDirectory: cache));
        Assert.Contains("models--org--other", model.Message, StringComparison.Ordinal);
        Assert.Contains(cache, model.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', model.Message);

        var revision = Assert.Throws<DirectoryNotFoundException>(() => HuggingFaceCache.Find("org/tiny", "v2", cache));
        Assert.Contains("main -> 0123456789abcdef0123456789abcdef01234567", revision.Message, StringComparison.Ordinal);
        Assert.Contains("snapshot 0123456789abcdef0123456789abcdef01234567", revision.Message, StringComparison.Ordinal);

        Assert.Throws<DirectoryNotFoundException>(() => HuggingFaceCache.Find("org/tiny", "../../..", cache));
    }

    [Fact]
    public void The_cache_folder_follows_the_hub_environment_variables()
    {
        // Only checks the precedence when HF_HUB_CACHE is set by the caller's environment: tests don't change it.
        var hub = Environment.GetEnvironmentVariable("HF_HUB_CACHE");
        if (!string.IsNullOrEmpty(hub))
        {
            Assert.Equal(hub, HuggingFaceCache.DefaultCacheDirectory);
        }
        else
        {
            Assert.EndsWith(Path.Combine("huggingface", "hub"), HuggingFaceCache.DefaultCacheDirectory, StringComparison.Ordinal);
        }
    }

    /// <summary>A snapshot as huggingface_hub writes it: blobs by hash, snapshot files linking to them, refs naming the commit.</summary>
    private static string MakeSnapshot(string cache, string repoId, string commit, string refName)
    {
        var repo = Path.Combine(cache, "models--" + repoId.Replace("/", "--", StringComparison.Ordinal));
        var blobs = Directory.CreateDirectory(Path.Combine(repo, "blobs")).FullName;
        var snapshot = Directory.CreateDirectory(Path.Combine(repo, "snapshots", commit)).FullName;
        var blob = Path.Combine(blobs, commit[..16] + "blob");
        File.Copy(Fixtures.PathOf("safetensors/mlp.safetensors"), blob, overwrite: true);
        File.CreateSymbolicLink(Path.Combine(snapshot, "model.safetensors"), Path.GetRelativePath(snapshot, blob));
        var refFile = Path.Combine([repo, "refs", .. refName.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
        File.WriteAllText(refFile, commit);
        return snapshot;
    }

    private static void CopyFolder(string from, string to, params string[] prefixes)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from).Where(f => prefixes.Any(p => Path.GetFileName(f).StartsWith(p, StringComparison.Ordinal))))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
