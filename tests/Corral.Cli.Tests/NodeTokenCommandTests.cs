using System.Text.Json;
using Corral.Core;
using Corral.Core.Security;

namespace Corral.Cli.Tests;

public sealed class NodeTokenCommandTests : CliTestBase
{
    [Fact]
    public async Task NodeToken_CreateLsRevoke()
    {
        var create = await CorralAsync("node", "token", "create", "--ttl", "2h", "--uses", "3");
        var token = create.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
        var created = JsonSerializer.Deserialize((await CorralAsync("node", "token", "create", "-o", "json")).Out, CoreJson.Default.JoinTokenCreated)!;
        var ls = await CorralAsync("node", "token", "ls");
        var revoke = await CorralAsync("node", "token", "revoke", created.Info.Id);
        var revokeUnknown = await CorralAsync("node", "token", "revoke", "0123456789ab");
        var revokeMalformed = await CorralAsync("node", "token", "revoke", "nope");
        var json = await CorralAsync("node", "token", "ls", "-o", "json");

        AssertOk(create);
        Assert.Contains("role agent, 3 use(s)", create.Out, StringComparison.Ordinal);
        Assert.True(JoinToken.TryParse(token, out var parsed, out var error), error);
        AssertOk(ls);
        Assert.Matches(@"(?m)^ID\s+ROLE\s+USES LEFT\s+EXPIRES\s+STATE\s+CREATED\s+CREATED BY", ls.Out);
        Assert.Matches($@"(?m)^{parsed.Id}\s+agent\s+3/3\s+\S+Z\s+valid\s+\S+Z\s+key:admin", ls.Out);
        Assert.DoesNotContain(parsed.Secret, ls.Out, StringComparison.Ordinal);
        AssertOk(revoke);
        AssertExit(ExitCodes.NotFound, revokeUnknown);
        AssertExit(ExitCodes.Failure, revokeMalformed);
        Assert.Contains("'nope' is not an id: ids are 12 lower-case hex digits", revokeMalformed.Error, StringComparison.Ordinal);
        var tokens = JsonSerializer.Deserialize(json.Out, CoreJson.Default.ListJoinTokenView)!;
        Assert.NotNull(tokens.Single(t => t.Id == created.Info.Id).RevokedAt);
        Assert.Null(tokens.Single(t => t.Id == parsed.Id).RevokedAt);
    }

    [Fact]
    public async Task NodeToken_CreateWithViewerKey_IsForbidden()
    {
        var viewer = JsonSerializer.Deserialize((await CorralAsync("apikey", "create", "watcher", "--role", "viewer", "-o", "json")).Out, CoreJson.Default.ApiKeyCreated)!;

        var create = await CorralAsAsync(viewer.Token, "node", "token", "create");

        AssertExit(ExitCodes.Unauthorized, create);
    }

    [Fact]
    public async Task NodeToken_CreateWithBadTtl_FailsNamingTtl()
    {
        var create = await CorralAsync("node", "token", "create", "--ttl", "soon");

        AssertExit(ExitCodes.Failure, create);
        Assert.Contains("ttl", create.ToString(), StringComparison.Ordinal);
    }
}
