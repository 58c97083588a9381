using Corral.Core.Security;

namespace Corral.Server.Tests.Security;

public sealed class JoinTokenTests
{
    [Fact]
    public void Generate_RoundTripsThroughTryParse()
    {
        var token = JoinToken.Generate(CaPin.Prefix + new string('a', 64));

        Assert.True(JoinToken.TryParse(token.ToString(), out var parsed, out var error), error);
        Assert.Equal(token, parsed);
        Assert.Equal(CaPin.Prefix + new string('a', 64), parsed.CaPin);
        Assert.True(parsed.Matches(token.SecretHash));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("K10")]
    [InlineData("K10aaaa::0123456789ab.abcd")]
    [InlineData("K20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::0123456789ab.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::0123456789ab")]
    [InlineData("K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::0123456789AB.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void TryParse_Malformed_IsFalseWithMessage(string? text)
    {
        Assert.False(JoinToken.TryParse(text, out _, out var error));
        Assert.StartsWith("malformed join token", error, StringComparison.Ordinal);
    }
}
