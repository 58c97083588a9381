using System.Text.Json;
using Corral.Core;

namespace Corral.Cli.Tests;

public sealed class DeployCommandTests : CliTestBase
{
    [Fact]
    public async Task Deploy_Detach_PrintsChanges_SecondTimeNoChanges()
    {
        var file = File("shop.yaml", Shop);

        var first = await CorralAsync("deploy", "-f", file, "--detach");
        var second = await CorralAsync("deploy", "-f", file, "--detach");

        AssertOk(first);
        Assert.Contains($"stack 'shop' ({file}): 2 services changed", first.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^SERVICE\s+CHANGE\s+DETAIL", first.Out);
        Assert.Matches(@"(?m)^web\s+create\s", first.Out);
        Assert.Matches(@"(?m)^worker\s+create\s", first.Out);
        AssertOk(second);
        Assert.Equal($"stack 'shop' ({file}): no changes", second.Out.Trim());
    }

    [Fact]
    public async Task Deploy_Json_IsTheDeployResultOnly()
    {
        var run = await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach", "-o", "json");

        AssertOk(run);
        var result = JsonSerializer.Deserialize(run.Out, CoreJson.Default.DeployResult)!;
        Assert.True(result.Changed);
        Assert.Equal("shop", result.Stack);
    }

    [Fact]
    public async Task Deploy_NotReadyWithinTimeout_Exit7ListingNotReadyReplicas()
    {
        // No agent runs, so no replica can become healthy: the deploy is applied and the wait times out.
        var run = await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--timeout", "2s");

        AssertExit(ExitCodes.DeployTimedOut, run);
        Assert.Contains("2 services changed", run.Out, StringComparison.Ordinal);
        Assert.Contains("waiting for healthy replicas: web 0/3, worker 0/1", run.Out, StringComparison.Ordinal);
        Assert.Contains("corral: stack 'shop' not ready after 2s; the deploy is applied and keeps converging:", run.Error, StringComparison.Ordinal);
        Assert.Contains("  web: 0 of 3 healthy", run.Error, StringComparison.Ordinal);
        Assert.Contains("  worker: 0 of 1 healthy", run.Error, StringComparison.Ordinal);
        // Without nodes a replica is either pending with the scheduler's reason, or not created at all when no leader runs.
        Assert.Matches(@"(?m)^    (web-\S+: pending: .+|3 replicas are not created yet .+)$", run.Error);
        Assert.Equal(3, JsonSerializer.Deserialize((await CorralAsync("svc", "show", "web", "-o", "json")).Out, CoreJson.Default.ServiceView)!.Desired);
    }

    [Fact]
    public async Task Deploy_ScaledToZero_IsReadyAtOnce()
    {
        var run = await CorralAsync("deploy", "-f", File("zero.yaml", "stack: idle\nservices:\n  nap:\n    command: /bin/sleep\n    args: [\"60\"]\n    replicas: 0\n"), "--timeout", "30s");

        AssertOk(run);
        Assert.Contains("stack 'idle': 0 replicas of 1 service running and healthy", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_BadStack_Exit1WithEveryLocatedErrorOnStderr()
    {
        var file = File("bad.yaml", "stack: shop\nservices:\n  web:\n    comand: x\n    replicas: many\n");

        var run = await CorralAsync("deploy", "-f", file, "--detach");

        AssertExit(ExitCodes.Failure, run);
        Assert.Empty(run.Out);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith($"{file}:4:", StringComparison.Ordinal) && l.Contains(": services.web.comand: ", StringComparison.Ordinal) && l.Contains("did you mean 'command'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{file}:5:", StringComparison.Ordinal) && l.Contains(": services.web.replicas: ", StringComparison.Ordinal));
        Assert.Matches(@"^\S+:\d+:\d+: ", lines[0]);
        Assert.StartsWith("corral: bad request: ", lines[^1], StringComparison.Ordinal);
        Assert.Contains("no services", (await CorralAsync("svc", "ls")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_MissingFile_Exit1NamingIt()
    {
        var run = await CorralAsync("deploy", "-f", "/nonexistent/stack.yaml");

        AssertExit(ExitCodes.Failure, run);
        Assert.StartsWith("corral: cannot read stack file /nonexistent/stack.yaml:", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_ServiceOfAnotherStack_Exit4()
    {
        AssertOk(await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach"));

        var run = await CorralAsync("deploy", "-f", File("other.yaml", Shop.Replace("stack: shop", "stack: other", StringComparison.Ordinal)), "--detach");

        AssertExit(ExitCodes.Conflict, run);
        Assert.StartsWith("corral: conflict: ", run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_ShowsWhatWouldChange_AndChangesNothing()
    {
        AssertOk(await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach"));
        var changed = File("shop2.yaml", Shop.Replace("replicas: 3", "replicas: 5", StringComparison.Ordinal));

        var diff = await CorralAsync("diff", "-f", changed);
        var json = await CorralAsync("diff", "-f", changed, "-o", "json");
        var same = await CorralAsync("diff", "-f", File("shop3.yaml", Shop));

        AssertOk(diff);
        Assert.Contains("1 service would change", diff.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^web\s+scale\s", diff.Out);
        Assert.Matches(@"(?m)^worker\s+unchanged\s", diff.Out);
        AssertOk(json);
        Assert.True(JsonSerializer.Deserialize(json.Out, CoreJson.Default.DeployResult)!.Changed);
        AssertOk(same);
        Assert.Contains("no changes", same.Out, StringComparison.Ordinal);
        Assert.Equal(3, JsonSerializer.Deserialize((await CorralAsync("svc", "show", "web", "-o", "json")).Out, CoreJson.Default.ServiceView)!.Desired);
    }

    [Fact]
    public async Task DiffAndDeploy_Prune_RemoveServicesNotInTheFile()
    {
        AssertOk(await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach"));
        var webOnly = File("web.yaml", Shop[..Shop.IndexOf("  worker:", StringComparison.Ordinal)]);

        var keep = await CorralAsync("diff", "-f", webOnly);
        var prune = await CorralAsync("diff", "-f", webOnly, "--prune");
        var deploy = await CorralAsync("deploy", "-f", webOnly, "--prune", "--detach");

        AssertOk(keep);
        Assert.Matches(@"(?m)^worker\s+kept \(not in file; --prune removes it\)", keep.Out);
        AssertOk(prune);
        Assert.Matches(@"(?m)^worker\s+remove\s", prune.Out);
        AssertOk(deploy);
        AssertExit(ExitCodes.NotFound, await CorralAsync("svc", "show", "worker"));
    }
}
