namespace StateDict.Samples.Tests;

/// <summary>The samples ship copies of tests/fixtures files; they must stay the files PyTorch wrote.</summary>
public class SampleFilesTests
{
    [Theory]
    [InlineData("digits_mlp.pth")]
    [InlineData("digits_test.pth")]
    [InlineData("checkpoint.pth")]
    public void Sample_files_are_the_fixtures(string name)
    {
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", name)),
            File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, name)));
    }
}
