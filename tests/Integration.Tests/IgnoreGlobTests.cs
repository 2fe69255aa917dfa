namespace StateDict.Integration.Tests;

/// <summary>Ignore globs match like Python's <c>fnmatch.fnmatchcase</c> for <c>*</c> and <c>?</c> (expected values from CPython).</summary>
public class IgnoreGlobTests
{
    [Theory]
    [InlineData("*.rotary_emb.inv_freq", "model.layers.0.self_attn.rotary_emb.inv_freq", true)]
    [InlineData("*.rotary_emb.inv_freq", "rotary_emb.inv_freq", false)]
    [InlineData("*.inv_freq", "blocks.0.inv_freq", true)]
    [InlineData("blocks.?.inv_freq", "blocks.10.inv_freq", false)]
    [InlineData("blocks.*.inv_freq", "blocks.10.inv_freq", true)]
    [InlineData("*", "a.b", true)]
    [InlineData("", "a", false)]
    [InlineData("a*b*c", "aXbYbZc", true)]
    [InlineData("a*b*c", "aXbYbZ", false)]
    [InlineData("**x", "x", true)]
    [InlineData("lm_head.weight", "lm_head.weights", false)]
    public void Globs_match_like_fnmatchcase(string glob, string key, bool matches) =>
        Assert.Equal(matches, BindingRules.GlobMatches(glob, key));

    [Fact]
    public void A_long_key_against_many_stars_stays_linear_enough()
    {
        string key = new string('a', 20_000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(BindingRules.GlobMatches("*a*a*a*a*a*a*b", key));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }
}
