using Microsoft.CodeAnalysis.CSharp;
using StateDict.Generator.Model;

namespace StateDict.Generator.Tests;

/// <summary>Key segments to C# names (DESIGN.md "Naming"): split on '_', capitalise each part, join.</summary>
public class IdentifierTests
{
    [Theory]
    // The DESIGN.md table.
    [InlineData("c_attn", "CAttn")]
    [InlineData("ln_1", "Ln1")]
    [InlineData("in_proj_weight", "InProjWeight")]
    [InlineData("weight_ih_l0_reverse", "WeightIhL0Reverse")]
    [InlineData("num_batches_tracked", "NumBatchesTracked")]
    [InlineData("fc1", "Fc1")]
    [InlineData("0", "Item0")]
    // More of the same rule.
    [InlineData("weight", "Weight")]
    [InlineData("running_mean", "RunningMean")]
    [InlineData("12", "Item12")]
    [InlineData("_orig_mod", "OrigMod")]
    [InlineData("fc__1", "Fc1")]
    [InlineData("trailing_", "Trailing")]
    [InlineData("alreadyCamel", "AlreadyCamel")]
    [InlineData("ALLCAPS", "ALLCAPS")]
    public void A_segment_becomes_a_pascal_case_name(string segment, string expected)
    {
        Assert.Equal(expected, Identifiers.Member(segment));
    }

    [Theory]
    [InlineData("conv-1", "Conv1")]
    [InlineData("a b", "AB")]
    [InlineData("attn:q", "AttnQ")]
    [InlineData("größe", "Größe")]
    [InlineData("\u03b1_\u03b2", "\u0391\u0392")] // α_β → ΑΒ
    [InlineData("1x1conv", "_1x1conv")]
    [InlineData("007", "_007")]
    [InlineData("0_1", "_01")]
    [InlineData("-", "Member")]
    [InlineData("_", "Member")]
    [InlineData("$%", "Member")]
    public void Characters_that_cannot_be_in_an_identifier_are_dropped_and_a_leading_digit_is_prefixed(string segment, string expected)
    {
        Assert.Equal(expected, Identifiers.Member(segment));
    }

    [Theory]
    [InlineData("class")]
    [InlineData("int")]
    [InlineData("event")]
    [InlineData("namespace")]
    [InlineData("a-b.c")]
    [InlineData("\u00e9t\u00e9")]
    [InlineData("9")]
    [InlineData("123456789")]
    [InlineData("1234567890")]
    [InlineData("\t\n")]
    public void Every_generated_name_is_a_valid_identifier(string segment)
    {
        string name = Identifiers.Member(segment);

        string bare = name.TrimStart('@');
        Assert.True(SyntaxFacts.IsValidIdentifier(bare), $"'{name}' is not an identifier");
        Assert.Equal(SyntaxKind.None, SyntaxFacts.GetKeywordKind(name));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("7", true)]
    [InlineData("10", true)]
    [InlineData("999999999", true)]
    [InlineData("1000000000", false)]
    [InlineData("01", false)]
    [InlineData("", false)]
    [InlineData("-1", false)]
    [InlineData("1a", false)]
    [InlineData("\u0661", false)] // Arabic-Indic digit one: not a PyTorch index
    public void Only_plain_decimal_indices_count_as_list_indices(string segment, bool isIndex)
    {
        Assert.Equal(isIndex, Identifiers.IsIndex(segment));
    }

    [Fact]
    public void A_leading_zero_index_is_a_name_not_an_item()
    {
        Assert.Equal("_00", Identifiers.Member("00"));
    }

    [Theory]
    [InlineData("a<b>&c", "a&lt;b&gt;&amp;c")]
    [InlineData("plain.key", "plain.key")]
    public void Doc_text_is_xml_escaped(string text, string expected)
    {
        Assert.Equal(expected, Identifiers.Xml(text));
    }

    [Theory]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("a\r\nb", "a\\r\\nb")]
    [InlineData("a\u2028b\u2029c\u0085d", "a\\u2028b\\u2029c\\u0085d")]
    [InlineData("nul\0bell\a", "nul\\u0000bell\\u0007")]
    [InlineData("tab\tkept", "tab\tkept")]
    public void Doc_text_never_contains_a_line_break_or_a_control_character(string text, string expected)
    {
        Assert.Equal(expected, Identifiers.Xml(text));
    }

    [Theory]
    [InlineData("Net", "Net")]
    [InlineData("@event", "@event")]
    [InlineData("event", "@event")]
    [InlineData("record", "@record")]
    [InlineData("var", "@var")]
    [InlineData("Record", "Record")]
    public void Type_names_that_are_keywords_are_escaped(string name, string expected)
    {
        Assert.Equal(expected, Identifiers.Escape(name));
    }

    [Theory]
    [InlineData("App.Models.Mlp", "App.Models.Mlp.g.cs")]
    [InlineData("Mlp", "Mlp.g.cs")]
    [InlineData("App.Outer.Inner", "App.Outer.Inner.g.cs")]
    [InlineData("App.Outer<T>.Inner", "App.Outer_T_.Inner.g.cs")]
    public void Hint_names_come_from_the_full_type_name(string fullName, string hint)
    {
        Assert.Equal(hint, Identifiers.HintName(fullName));
    }
}
