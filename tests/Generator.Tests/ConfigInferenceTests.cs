using Microsoft.CodeAnalysis.Text;
using StateDict.Generator.Config;

namespace StateDict.Generator.Tests;

/// <summary>What C# type each sample value gives (ConfigParser, pure).</summary>
public class ConfigInferenceTests
{
    private static ConfigType Field(string json, string key = "x")
    {
        var file = ConfigParser.Parse("/c/config.json", SourceText.From(json), CancellationToken.None);
        Assert.NotNull(file.Root);
        return file.Root!.Fields.Single(f => f.Key == key).Type;
    }

    [Theory]
    [InlineData("0", "Int")]
    [InlineData("-2147483648", "Int")]
    [InlineData("2147483647", "Int")]
    [InlineData("2147483648", "Long")]
    [InlineData("-9223372036854775808", "Long")]
    [InlineData("9223372036854775808", "Double")]
    [InlineData("1.0", "Double")]
    [InlineData("1e-05", "Double")]
    [InlineData("1E3", "Double")]
    [InlineData("true", "Bool")]
    [InlineData("\"gelu\"", "String")]
    public void Scalars_give_int_long_double_bool_or_string(string value, string kind)
    {
        Assert.Equal(ConfigType.Of(Enum.Parse<ConfigKind>(kind)), Field($"{{\"x\": {value}}}"));
    }

    [Fact]
    public void Null_alone_is_a_nullable_value_of_unknown_type()
    {
        Assert.Equal(ConfigType.Of(ConfigKind.Unknown) with { Nullable = true }, Field("{\"x\": null}"));
    }

    [Theory]
    [InlineData("[1, 2]", "Int", false)]
    [InlineData("[1, 3000000000]", "Long", false)]
    [InlineData("[1, 0.5]", "Double", false)]
    [InlineData("[3000000000, 0.5, 1]", "Double", false)]
    [InlineData("[null, 2]", "Int", true)]
    [InlineData("[]", "Unknown", false)]
    [InlineData("[\"a\", 1]", "Mixed", false)]
    [InlineData("[[1], 2]", "Mixed", false)]
    public void Array_items_unify_to_one_type(string value, string item, bool nullableItem)
    {
        var type = Field($"{{\"x\": {value}}}");

        Assert.Equal(ConfigKind.Array, type.Kind);
        Assert.Equal(Enum.Parse<ConfigKind>(item), type.Element!.Kind);
        Assert.Equal(nullableItem, type.Element.Nullable);
    }

    [Fact]
    public void Objects_in_an_array_merge_and_a_member_some_lack_becomes_nullable()
    {
        var item = Field("""{"x": [{"a": 1, "b": "s"}, {"a": 2.5, "c": true}]}""").Element!;

        Assert.Equal(ConfigKind.Object, item.Kind);
        Assert.Equal(["a", "b", "c"], item.Fields.Select(f => f.Key));
        Assert.Equal(ConfigType.Of(ConfigKind.Double), item.Fields[0].Type);
        Assert.Equal(ConfigType.Of(ConfigKind.String) with { Nullable = true }, item.Fields[1].Type);
        Assert.Equal(ConfigType.Of(ConfigKind.Bool) with { Nullable = true }, item.Fields[2].Type);
    }

    [Fact]
    public void An_object_keyed_by_integers_is_a_dictionary_and_an_empty_object_one_of_raw_JSON()
    {
        var labels = Field("""{"x": {"0": "cat", "1": "dog"}}""");
        var empty = Field("""{"x": {}}""");

        Assert.Equal(ConfigKind.Dictionary, labels.Kind);
        Assert.Equal(ConfigKind.String, labels.Element!.Kind);
        Assert.Equal(ConfigKind.Dictionary, empty.Kind);
        Assert.Equal(ConfigKind.Unknown, empty.Element!.Kind);
    }

    [Fact]
    public void Nested_objects_keep_their_members_in_file_order()
    {
        var type = Field("""{"x": {"z": 1, "a": {"m": null}}}""");

        Assert.Equal(ConfigKind.Object, type.Kind);
        Assert.Equal(["z", "a"], type.Fields.Select(f => f.Key));
        Assert.Equal(ConfigKind.Object, type.Fields[1].Type.Kind);
        Assert.True(type.Fields[1].Type.Fields[0].Type.Nullable);
    }

    [Fact]
    public void Parsing_the_same_text_twice_gives_equal_models()
    {
        var a = ConfigParser.Parse("/c/config.json", SourceText.From(Infrastructure.TestConfigs.Rich), CancellationToken.None);
        var b = ConfigParser.Parse("/c/config.json", SourceText.From(Infrastructure.TestConfigs.Rich), CancellationToken.None);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }
}
