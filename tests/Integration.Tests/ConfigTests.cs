namespace StateDict.Integration.Tests;

/// <summary>Generated [StateDictConfig] classes load real configs at run time, and name the file and field of any mismatch.</summary>
public class ConfigTests
{
    private static readonly string TinyPath = Path.Combine(AppContext.BaseDirectory, "model", "config.json");
    private static readonly string LlavaPath = Path.Combine(AppContext.BaseDirectory, "fixtures", "configs", "llava", "config.json");

    private static string TinyJson => File.ReadAllText(TinyPath);

    [Fact]
    public void The_TinyGpt_config_loads_with_typed_values()
    {
        var config = TinyGptConfig.Load(TinyPath);

        Assert.Equal("tinygpt", config.ModelType);
        Assert.Equal(60, config.VocabSize);
        Assert.Equal(2, config.NLayer);
        Assert.Equal(4, config.NHead);
        Assert.Equal(64, config.NEmbd);
        Assert.Equal(32, config.BlockSize);
        Assert.Equal(1e-05, config.LayerNormEpsilon);
        Assert.Equal("gelu", config.ActivationFunction);
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal("bfloat16", config.TorchDtype);
        Assert.Equal(60, config.Vocab.Length);
        Assert.Equal('\n', config.Vocab[0]);
    }

    [Fact]
    public void A_rich_config_loads_nested_objects_lists_dictionaries_and_nulls()
    {
        var config = LlavaConfig.Load(LlavaPath);

        Assert.Equal(["LlavaNextForConditionalGeneration"], config.Architectures);
        Assert.Equal(-100, config.IgnoreIndex);
        Assert.Equal(5, config.ImageGridPinpoints.Count);
        Assert.Equal([1008, 336], config.ImageGridPinpoints[3]);
        Assert.Equal("mistralai/Mistral-7B-Instruct-v0.2", config.TextConfig.NameOrPath);
        Assert.Null(config.TextConfig.BadWordsIds);
        Assert.Null(config.TextConfig.RopeScaling);
        Assert.Null(config.TextConfig.SlidingWindow);
        Assert.Equal([2, 32001], config.TextConfig.EosTokenId);
        Assert.Equal("LABEL_1", config.TextConfig.Id2label["1"]);
        Assert.Equal(1, config.TextConfig.Label2id.LABEL1);
        Assert.Equal(1e-05, config.TextConfig.RmsNormEps);
        Assert.Equal(1000000.0, config.TextConfig.RopeTheta);
        Assert.Equal(0.9, config.TextConfig.TopP);
        Assert.Equal(14, config.VisionConfig.PatchSize);
        Assert.Equal("clip_vision_model", config.VisionConfig.ModelType);
        Assert.Equal(-2, config.VisionFeatureLayer);
        Assert.True(config.UseImageNewlineParameter);
    }

    [Fact]
    public void A_null_field_takes_any_value_at_run_time_as_raw_JSON()
    {
        var config = LlavaConfig.Parse(File.ReadAllText(LlavaPath).Replace("\"sliding_window\": null", "\"sliding_window\": 4096", StringComparison.Ordinal));

        Assert.Equal(4096, config.TextConfig.SlidingWindow!.Value.GetInt32());
    }

    [Fact]
    public void Fields_the_sample_lacks_are_ignored_and_ints_read_as_doubles()
    {
        var config = TinyGptConfig.Parse(TinyJson.Replace("\"layer_norm_epsilon\": 1e-05", "\"layer_norm_epsilon\": 1, \"dropout\": 0.1", StringComparison.Ordinal));

        Assert.Equal(1.0, config.LayerNormEpsilon);
    }

    [Fact]
    public void A_missing_field_names_the_file_and_the_field()
    {
        var e = Assert.Throws<ConfigException>(() => TinyGptConfig.Parse(TinyJson.Replace("\"n_embd\": 64,", "", StringComparison.Ordinal), "tiny/config.json"));

        Assert.Equal("tiny/config.json: field 'n_embd' is missing", e.Message);
        Assert.Equal("n_embd", e.Field);
        Assert.Equal("tiny/config.json", e.FilePath);
    }

    [Theory]
    [InlineData("\"n_embd\": 64", "\"n_embd\": \"64\"", "config.json: field 'n_embd' must be an integer from -2147483648 to 2147483647, not the string \"64\"")]
    [InlineData("\"n_embd\": 64", "\"n_embd\": 64.5", "config.json: field 'n_embd' must be an integer from -2147483648 to 2147483647, not the number 64.5")]
    [InlineData("\"n_embd\": 64", "\"n_embd\": 3000000000", "config.json: field 'n_embd' must be an integer from -2147483648 to 2147483647, not the number 3000000000")]
    [InlineData("\"n_embd\": 64", "\"n_embd\": null", "config.json: field 'n_embd' must be an integer from -2147483648 to 2147483647, not null")]
    [InlineData("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": 1", "config.json: field 'tie_word_embeddings' must be true or false, not the number 1")]
    [InlineData("\"layer_norm_epsilon\": 1e-05", "\"layer_norm_epsilon\": [1e-05]", "config.json: field 'layer_norm_epsilon' must be a number, not an array")]
    public void A_field_of_another_type_names_the_file_the_field_and_both_types(string field, string replacement, string message)
    {
        var e = Assert.Throws<ConfigException>(() => TinyGptConfig.Parse(TinyJson.Replace(field, replacement, StringComparison.Ordinal)));

        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("\"patch_size\": 14", "\"patch_size\": \"14\"", "vision_config.patch_size")]
    [InlineData("\"eos_token_id\": [2, 32001]", "\"eos_token_id\": [2, \"</s>\"]", "text_config.eos_token_id[1]")]
    [InlineData("[1008, 336]", "[1008, 336.5]", "image_grid_pinpoints[3][1]")]
    [InlineData("\"1\": \"LABEL_1\"", "\"1\": 1", "text_config.id2label.1")]
    [InlineData("\"vision_config\": {", "\"vision_config\": [], \"unused\": {", "vision_config")]
    public void A_nested_mismatch_names_the_path_to_the_field(string field, string replacement, string path)
    {
        var e = Assert.Throws<ConfigException>(() => LlavaConfig.Parse(File.ReadAllText(LlavaPath).Replace(field, replacement, StringComparison.Ordinal)));

        Assert.Equal(path, e.Field);
        Assert.StartsWith($"config.json: field '{path}' must be ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"n_embd\": 64", "config.json: not valid JSON: ")]
    [InlineData("[1, 2]", "config.json: the top level must be an object, not an array")]
    [InlineData("", "config.json: not valid JSON: ")]
    public void Text_that_is_not_a_config_object_is_a_ConfigException(string json, string message)
    {
        var e = Assert.Throws<ConfigException>(() => TinyGptConfig.Parse(json));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_loads_like_a_file_and_is_named_as_given()
    {
        using var stream = File.OpenRead(TinyPath);
        Assert.Equal(64, TinyGptConfig.Load(stream).NEmbd);

        using var broken = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{}"));
        Assert.Equal("upload: field 'model_type' is missing", Assert.Throws<ConfigException>(() => TinyGptConfig.Load(broken, "upload")).Message);
    }

    [Fact]
    public void A_stream_larger_than_any_config_is_refused_without_reading_it_all()
    {
        using var huge = new EndlessStream();

        var e = Assert.Throws<ConfigException>(() => TinyGptConfig.Load(huge));

        Assert.Contains("too big for a config", e.Message, StringComparison.Ordinal);
        Assert.InRange(huge.BytesRead, ConfigValue.MaxFileBytes, ConfigValue.MaxFileBytes + (1 << 20));
    }

    [Fact]
    public void A_missing_file_is_FileNotFoundException_naming_it()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "no-such-config.json");

        var e = Assert.Throws<FileNotFoundException>(() => TinyGptConfig.Load(path));

        Assert.Equal(path, e.FileName);
    }

    /// <summary>Spaces forever, counting what was read.</summary>
    private sealed class EndlessStream : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)' ');
            BytesRead += count;
            return count;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
