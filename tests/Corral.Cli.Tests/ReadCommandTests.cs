using System.Text.Json;
using Corral.Core;

namespace Corral.Cli.Tests;

public sealed class ReadCommandTests : CliTestBase
{
    private async Task DeployShopAsync() => AssertOk(await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach"));

    [Fact]
    public async Task Status_Table_ShowsStoreNodesAndServices()
    {
        await DeployShopAsync();

        var run = await CorralAsync("status");

        AssertOk(run);
        Assert.Contains("sqlite (healthy)", run.Out, StringComparison.Ordinal);
        Assert.Contains("no nodes", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^SERVICE\s+VERSION\s+DESIRED\s+RUNNING\s+HEALTHY", run.Out);
        Assert.Matches(@"(?m)^web\s+[0-9a-f]{12}\s+3\s+0\s+0", run.Out);
    }

    [Fact]
    public async Task Status_Json_IsTheApisJson()
    {
        var run = await CorralAsync("status", "-o", "json");

        AssertOk(run);
        var status = JsonSerializer.Deserialize(run.Out, CoreJson.Default.ClusterStatus)!;
        Assert.Equal("sqlite", status.StoreKind);
        Assert.Contains("\"store_kind\": \"sqlite\"", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SvcLs_TableAndJson()
    {
        await DeployShopAsync();

        var table = await CorralAsync("svc", "ls");
        var json = await CorralAsync("svc", "ls", "-o", "json");

        AssertOk(table);
        Assert.Matches(@"(?m)^SERVICE\s+STACK\s+MODE\s+DESIRED\s+RUNNING\s+HEALTHY\s+PENDING\s+VERSION", table.Out);
        Assert.Matches(@"(?m)^web\s+shop\s+replicated\s+3\s+0\s+0\s+\d+\s+[0-9a-f]{12}\s*$", table.Out);
        Assert.Matches(@"(?m)^worker\s+shop\s+replicated\s+1\s", table.Out);
        AssertOk(json);
        var services = JsonSerializer.Deserialize(json.Out, CoreJson.Default.ListServiceView)!;
        Assert.Equal(["web", "worker"], services.Select(s => s.Spec.Name));
    }

    [Fact]
    public async Task SvcLs_NoServices_SaysSo()
    {
        var run = await CorralAsync("svc", "ls");

        AssertOk(run);
        Assert.Contains("no services", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SvcShow_TableAndJson()
    {
        await DeployShopAsync();

        var table = await CorralAsync("svc", "show", "web");
        var json = await CorralAsync("svc", "show", "web", "-o", "json");

        AssertOk(table);
        Assert.Matches(@"(?m)^name\s+web\s*$", table.Out);
        Assert.Matches(@"(?m)^replicas\s+3 desired, 0 running, 0 healthy", table.Out);
        Assert.Matches(@"(?m)^command\s+corral demo-web --port \$\{PORT\}", table.Out);
        Assert.Matches(@"(?m)^health\s+http /health every 2s", table.Out);
        AssertOk(json);
        Assert.Equal(3, JsonSerializer.Deserialize(json.Out, CoreJson.Default.ServiceView)!.Desired);
    }

    [Fact]
    public async Task SvcShow_Unknown_Exit3WithTheProblem()
    {
        var run = await CorralAsync("svc", "show", "nope");

        AssertExit(ExitCodes.NotFound, run);
        Assert.Equal("corral: not found: no service 'nope'", run.Error.Trim());
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task SvcScaleRestartRm_ChangeTheService()
    {
        await DeployShopAsync();

        var scale = await CorralAsync("svc", "scale", "web", "5");
        var scaleJson = await CorralAsync("svc", "scale", "web", "5", "-o", "json");
        var restart = await CorralAsync("svc", "restart", "web");
        var rm = await CorralAsync("svc", "rm", "web");
        var rmAgain = await CorralAsync("svc", "rm", "web");
        var rmJson = await CorralAsync("svc", "rm", "worker", "-o", "json");

        AssertOk(scale);
        Assert.Contains("service 'web' scaled to 5 replicas", scale.Out, StringComparison.Ordinal);
        AssertOk(scaleJson);
        Assert.Equal(5, JsonSerializer.Deserialize(scaleJson.Out, CoreJson.Default.ServiceView)!.Desired);
        AssertOk(restart);
        Assert.Matches("service 'web' restarting as version [0-9a-f]{12}: replicas are replaced one at a time", restart.Out);
        AssertOk(rm);
        Assert.Contains("service 'web' removed", rm.Out, StringComparison.Ordinal);
        AssertExit(ExitCodes.NotFound, rmAgain);
        AssertOk(rmJson);
        Assert.Empty(rmJson.Out);
    }

    [Fact]
    public async Task NodeLs_NoAgents_TableAndJson()
    {
        var table = await CorralAsync("node", "ls");
        var json = await CorralAsync("node", "ls", "-o", "json");

        AssertOk(table);
        Assert.Contains("no nodes", table.Out, StringComparison.Ordinal);
        AssertOk(json);
        Assert.Empty(JsonSerializer.Deserialize(json.Out, CoreJson.Default.ListNodeView)!);
    }

    [Fact]
    public async Task NodeShow_Unknown_Exit3()
    {
        var run = await CorralAsync("node", "show", "nope");

        AssertExit(ExitCodes.NotFound, run);
        Assert.Contains("no node 'nope'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_TableAndJson_ShowWhoDidWhat()
    {
        await DeployShopAsync();

        var table = await CorralAsync("events");
        var json = await CorralAsync("events", "-o", "json");

        AssertOk(table);
        Assert.Matches(@"(?m)^INDEX\s+TIME\s+KIND\s+SUBJECT\s+ACTOR\s+MESSAGE", table.Out);
        Assert.Matches(@"(?m)^\d+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+cluster\.initialized\s+cluster/test\s+server-init\s", table.Out);
        Assert.Matches(@"(?m)^\d+\s+\S+\s+stack\.deployed\s+stack/shop\s+key:admin\s", table.Out);
        AssertOk(json);
        var page = JsonSerializer.Deserialize(json.Out, CoreJson.Default.EventPage)!;
        Assert.Contains(page.Events, e => e.Kind == "service.created" && e.Subject == "service/web");
        Assert.Equal(page.Events[^1].Revision, page.Index);
    }

    [Fact]
    public async Task Events_TailTypeAndService_ShowOnlyTheLastMatching()
    {
        await DeployShopAsync();

        var run = await CorralAsync("events", "--tail", "1", "--type", "service", "--service", "web", "--since", "1h", "-o", "json");

        AssertOk(run);
        var page = JsonSerializer.Deserialize(run.Out, CoreJson.Default.EventPage)!;
        var only = Assert.Single(page.Events);
        Assert.StartsWith("service.", only.Kind, StringComparison.Ordinal);
        Assert.Equal("web", only.Service);
        Assert.NotEmpty(only.Id);
    }

    [Fact]
    public async Task Events_BadSince_RefusedNamingIt()
    {
        var run = await CorralAsync("events", "--since", "yesterday");

        AssertExit(ExitCodes.Failure, run);
        Assert.Contains("since", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_Index_ShowsOnlyNewer()
    {
        var first = JsonSerializer.Deserialize((await CorralAsync("events", "-o", "json")).Out, CoreJson.Default.EventPage)!;
        await DeployShopAsync();

        var run = await CorralAsync("events", "--index", first.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));

        AssertOk(run);
        Assert.DoesNotContain("cluster.initialized", run.Out, StringComparison.Ordinal);
        Assert.Contains("stack.deployed", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsFollow_PrintsNewEventsUntilCancelled()
    {
        await DeployShopAsync();
        using var output = new ConcurrentWriter();
        using var error = new ConcurrentWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var follow = CliRun.RunAsync(["events", "-f", "--addr", Server.Address, "--token", Server.Config.Token, "--config", Server.ConfigPath], output, error, stop.Token);
        await WaitForAsync(() => output.ToString().Contains("stack.deployed", StringComparison.Ordinal), "the existing events", output);
        AssertOk(await CorralAsync("svc", "scale", "web", "2"));
        await WaitForAsync(() => output.ToString().Contains("service.scaled", StringComparison.Ordinal), "the new event", output);
        await stop.CancelAsync();
        var code = await follow.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Matches(@"(?m)^\d+  \S+Z  service\.scaled  service/web  key:admin  service 'web' scaled 3 → 2$", output.ToString());
        Assert.Empty(error.ToString());
    }

    [Fact]
    public async Task ApiKey_CreateLsRevoke()
    {
        var create = await CorralAsync("apikey", "create", "ci", "--role", "operator");
        var token = create.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
        var created = JsonSerializer.Deserialize((await CorralAsync("apikey", "create", "bot", "--role", "viewer", "-o", "json")).Out, CoreJson.Default.ApiKeyCreated)!;
        var ls = await CorralAsync("apikey", "ls");
        var asCi = await CorralAsAsync(token, "svc", "ls");
        var revoke = await CorralAsync("apikey", "revoke", created.Key.Id);
        var asRevoked = await CorralAsAsync(created.Token, "svc", "ls");
        var revokeUnknown = await CorralAsync("apikey", "revoke", "0123456789ab");
        var revokeMalformed = await CorralAsync("apikey", "revoke", "nope");
        var json = await CorralAsync("apikey", "ls", "-o", "json");

        AssertOk(create);
        Assert.Contains("API key 'ci' created", create.Out, StringComparison.Ordinal);
        Assert.StartsWith("crl_", token, StringComparison.Ordinal);
        AssertOk(ls);
        Assert.Matches(@"(?m)^ID\s+NAME\s+ROLE\s+CREATED\s+CREATED BY\s+REVOKED", ls.Out);
        Assert.Matches(@"(?m)^\S+\s+ci\s+operator\s+\S+Z\s+key:admin\s+-", ls.Out);
        Assert.DoesNotContain(token, ls.Out, StringComparison.Ordinal);
        AssertOk(asCi);
        AssertOk(revoke);
        AssertExit(ExitCodes.Unauthorized, asRevoked);
        AssertExit(ExitCodes.NotFound, revokeUnknown);
        AssertExit(ExitCodes.Failure, revokeMalformed);
        Assert.Contains("'nope' is not an id: ids are 12 lower-case hex digits", revokeMalformed.Error, StringComparison.Ordinal);
        var keys = JsonSerializer.Deserialize(json.Out, CoreJson.Default.ListApiKeyView)!;
        Assert.NotNull(keys.Single(k => k.Id == created.Key.Id).RevokedAt);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, ConcurrentWriter output)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(condition(), $"timed out waiting for {what}; output so far:\n{output}");
    }
}
