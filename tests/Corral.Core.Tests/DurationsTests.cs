using Corral.Core;

namespace Corral.Core.Tests;

public class DurationsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("2d", 172_800_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1m30s250ms", 90_250)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.25h", 900_000)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("  10s ", 10_000)]
    public void Parse_ValidInput_ReturnsDuration(string text, long expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Durations.Parse(text));
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), value);
    }

    [Theory]
    [InlineData("10", "missing unit")]
    [InlineData("10x", "unknown unit 'x'")]
    [InlineData("10 s", "missing unit after '10'")]
    [InlineData("s", "expected a number at 's'")]
    [InlineData("-5s", "may not be negative")]
    [InlineData("", "empty")]
    [InlineData("1.2.3s", "is not a number")]
    [InlineData("10S", "unknown unit 'S'")]
    public void Parse_InvalidInput_ThrowsNamingTheProblem(string text, string fragment)
    {
        var error = Assert.Throws<FormatException>(() => Durations.Parse(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.False(Durations.TryParse(text, out _));
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse() => Assert.False(Durations.TryParse(null, out _));

    [Fact]
    public void Parse_HugeValue_Throws()
    {
        var error = Assert.Throws<FormatException>(() => Durations.Parse("99999999999999d"));
        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(500, "500ms")]
    [InlineData(1_500, "1s500ms")]
    [InlineData(300_000, "5m")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(90_061_001, "1d1h1m1s1ms")]
    [InlineData(-2_000, "-2s")]
    public void Format_Value_ReadsBackTheSame(long ms, string expected)
    {
        var value = TimeSpan.FromMilliseconds(ms);
        Assert.Equal(expected, Durations.Format(value));
        if (ms >= 0)
        {
            Assert.Equal(value, Durations.Parse(Durations.Format(value)));
        }
    }
}
