using StateDict.Generator.Parsing;

namespace StateDict.Generator.Tests;

/// <summary>The generator's own strict JSON reader: values with their spans, and every syntax error at its position.</summary>
public class JsonReaderTests
{
    [Fact]
    public void An_object_keeps_its_members_in_file_order_with_their_name_spans()
    {
        const string text = """{"b": 1, "a": 2}""";
        var obj = Assert.IsType<JsonObject>(JsonReader.Parse(text));

        Assert.Equal(new[] { "b", "a" }, obj.Properties.Select(p => p.Name));
        Assert.Equal(1, obj.Properties[0].NameStart);
        Assert.Equal(4, obj.Properties[0].NameEnd);
        Assert.Equal("\"a\"", text[obj.Properties[1].NameStart..obj.Properties[1].NameEnd]);
        Assert.Equal(0, obj.Start);
        Assert.Equal(text.Length, obj.End);
    }

    [Fact]
    public void Duplicate_member_names_are_kept_so_the_schema_parser_can_report_them()
    {
        var obj = Assert.IsType<JsonObject>(JsonReader.Parse("""{"k": 1, "k": 2}"""));

        Assert.Equal(2, obj.Properties.Count);
        Assert.Equal("1", Assert.IsType<JsonNumber>(obj["k"]).Text);
    }

    [Fact]
    public void Every_kind_of_value_is_read_with_its_span()
    {
        const string text = """[ "s", -12.5e+3, 0, true, false, null, {}, [] ]""";
        var array = Assert.IsType<JsonArray>(JsonReader.Parse(text));

        Assert.Collection(array.Items,
            v => Assert.Equal("s", Assert.IsType<JsonString>(v).Value),
            v => Assert.Equal("-12.5e+3", Assert.IsType<JsonNumber>(v).Text),
            v => Assert.Equal("0", Assert.IsType<JsonNumber>(v).Text),
            v => Assert.Equal("true", Assert.IsType<JsonLiteral>(v).Text),
            v => Assert.Equal("false", Assert.IsType<JsonLiteral>(v).Text),
            v => Assert.Equal("null", Assert.IsType<JsonLiteral>(v).Text),
            v => Assert.Empty(Assert.IsType<JsonObject>(v).Properties),
            v => Assert.Empty(Assert.IsType<JsonArray>(v).Items));
        var number = array.Items[1];
        Assert.Equal("-12.5e+3", text.Substring(number.Start, number.Length));
    }

    [Fact]
    public void String_escapes_are_decoded()
    {
        var value = Assert.IsType<JsonString>(JsonReader.Parse("""" "a\"b\\c\/d\b\f\n\r\t\u00e9\u0041" """"));

        Assert.Equal("a\"b\\c/d\b\f\n\r\té" + "A", value.Value);
    }

    [Fact]
    public void A_byte_order_mark_and_surrounding_whitespace_are_allowed()
    {
        var value = JsonReader.Parse("\uFEFF \t\r\n{\"a\": [1]} \n");

        Assert.IsType<JsonObject>(value);
        Assert.Equal(5, value.Start);
    }

    [Fact]
    public void Integers_in_range_convert_to_int64_and_others_do_not()
    {
        Assert.True(((JsonNumber)JsonReader.Parse("9223372036854775807")).TryGetInt64(out long max));
        Assert.Equal(long.MaxValue, max);
        Assert.False(((JsonNumber)JsonReader.Parse("9223372036854775808")).TryGetInt64(out _));
        Assert.False(((JsonNumber)JsonReader.Parse("3.0")).TryGetInt64(out _));
        Assert.False(((JsonNumber)JsonReader.Parse("1e3")).TryGetInt64(out _));
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted()
    {
        string text = new string('[', 65) + new string(']', 65);

        Assert.IsType<JsonArray>(JsonReader.Parse(text));
    }

    [Theory]
    // Empty input and values that never start.
    [InlineData("", 0, "unexpected end of file: expected a value")]
    [InlineData("   ", 3, "unexpected end of file: expected a value")]
    [InlineData("\uFEFF", 1, "unexpected end of file: expected a value")]
    [InlineData("[1, @]", 4, "unexpected character '@'")]
    [InlineData("'single'", 0, "unexpected character '''")]
    // Literals.
    [InlineData("[tru]", 1, "unexpected character 't'")]
    [InlineData("nul", 0, "unexpected character 'n'")]
    [InlineData("True", 0, "unexpected character 'T'")]
    // Objects.
    [InlineData("{a: 1}", 1, "expected a property name in double quotes")]
    [InlineData("{\"a\": 1,}", 8, "expected a property name in double quotes")]
    [InlineData("{\"a\" 1}", 5, "expected ':' but found '1'")]
    [InlineData("{\"a\"", 4, "unexpected end of file: expected ':'")]
    [InlineData("{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}' but found '\"'")]
    [InlineData("{\"a\": 1", 7, "unexpected end of file: expected ',' or '}'")]
    [InlineData("{\"a\":", 5, "unexpected end of file: expected a value")]
    // Arrays.
    [InlineData("[1,]", 3, "unexpected character ']'")]
    [InlineData("[1 2]", 3, "expected ',' or ']' but found '2'")]
    [InlineData("[1", 2, "unexpected end of file: expected ',' or ']'")]
    // Strings.
    [InlineData("\"abc", 0, "unterminated string")]
    [InlineData("[\"ab\ncd\"]", 4, "control character in string")]
    [InlineData("\"a\\x\"", 2, "invalid escape sequence")]
    [InlineData("\"a\\u12G4\"", 2, "invalid \\u escape")]
    [InlineData("\"a\\u12", 2, "invalid \\u escape")]
    // Numbers.
    [InlineData("-", 0, "invalid number")]
    [InlineData("[-a]", 1, "invalid number")]
    [InlineData("1.", 0, "invalid number")]
    [InlineData("[1.e5]", 1, "invalid number")]
    [InlineData("1e", 0, "invalid number")]
    [InlineData("1e+", 0, "invalid number")]
    [InlineData("01", 1, "unexpected text after the JSON value")]
    [InlineData("+1", 0, "unexpected character '+'")]
    // Trailing text.
    [InlineData("{} {}", 3, "unexpected text after the JSON value")]
    [InlineData("[1]]", 3, "unexpected text after the JSON value")]
    public void A_syntax_error_is_reported_with_its_message_at_its_position(string text, int position, string message)
    {
        var error = Assert.Throws<JsonSyntaxException>(() => JsonReader.Parse(text));

        Assert.Equal(message, error.Message);
        Assert.Equal(position, error.Position);
    }

    [Fact]
    public void Nesting_beyond_the_limit_is_reported_at_the_first_bracket_too_deep()
    {
        string text = new string('[', 66) + new string(']', 66);

        var error = Assert.Throws<JsonSyntaxException>(() => JsonReader.Parse(text));

        Assert.Equal("nesting deeper than 64", error.Message);
        Assert.Equal(65, error.Position);
    }

    [Fact]
    public void Deeply_nested_hostile_input_fails_fast_without_overflowing_the_stack()
    {
        string text = new string('[', 100_000);

        var error = Assert.Throws<JsonSyntaxException>(() => JsonReader.Parse(text));

        Assert.Equal(65, error.Position);
    }
}
