namespace Corral.Core.Tests;

public class ByteSizesTests
{
    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("256Mi", 256L << 20)]
    [InlineData("64KB", 64L << 10)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("4096", 4096L)]
    public void TryParse_ValidSizes(string text, long expected)
    {
        Assert.True(ByteSizes.TryParse(text, out var bytes, out var error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("12Q", "unknown unit 'Q'")]
    [InlineData("M", "expected a number")]
    [InlineData("1.5", "whole")]
    public void TryParse_Invalid_SaysWhy(string text, string fragment)
    {
        Assert.False(ByteSizes.TryParse(text, out _, out var error));
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(512L << 20, "512M")]
    [InlineData(1536L, "1536")]
    [InlineData(3L << 30, "3G")]
    public void Format_LargestWholeUnit(long bytes, string expected) => Assert.Equal(expected, ByteSizes.Format(bytes));
}
