using Corral.Server.Security;

namespace Corral.Server.Tests.Security;

public class ApiKeyTests
{
    [Fact]
    public void Generate_RoundTripsThroughText()
    {
        var key = ApiKey.Generate();

        Assert.True(ApiKey.TryParse(key.ToString(), out var parsed));
        Assert.Equal(key, parsed);
        Assert.True(parsed.Matches(key.SecretHash));
    }

    [Fact]
    public void Generate_IsUnique() => Assert.NotEqual(ApiKey.Generate().ToString(), ApiKey.Generate().ToString());

    [Fact]
    public void Matches_OtherSecret_IsFalse() => Assert.False(ApiKey.Generate().Matches(ApiKey.Generate().SecretHash));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer x")]
    [InlineData("crl_0123456789ab_short")]
    [InlineData("crl_0123456789AB_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("crl_0123456789ab-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void TryParse_Malformed_IsFalse(string? text) => Assert.False(ApiKey.TryParse(text, out _));
}
