using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Monitoring;
using Corral.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Monitoring;

public sealed class AlarmSinksTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static AlarmNotification Notification(string id = "node.down.node.a") => new(
        "alarm.raised",
        new Alarm(id, "node.down", AlarmSeverity.Critical, "node/a", "node a is down: check it", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, true),
        "s1",
        DateTimeOffset.UtcNow);

    [Fact]
    public async Task Webhook_FailsThenSucceeds_RetriedUntilDelivered()
    {
        var received = new ConcurrentQueue<AlarmNotification>();
        var calls = 0;
        await using var receiver = await StartReceiverAsync(async http =>
        {
            var body = await JsonSerializer.DeserializeAsync(http.Request.Body, CoreJson.Default.AlarmNotification);
            received.Enqueue(body!);
            http.Response.StatusCode = Interlocked.Increment(ref calls) <= 2 ? 503 : 204;
        });
        var options = new MonitorOptions { Webhook = new WebhookOptions { Url = receiver.Url, Backoff = TimeSpan.FromMilliseconds(50), MaxAttempts = 5 } };
        await using var sinks = new AlarmSinks(options, TimeProvider.System, NullLogger<AlarmSinks>.Instance);

        sinks.Post(Notification());

        await Eventually.TrueAsync(() => received.Count == 3, Timeout, "the webhook to be retried until it answers 2xx");
        Assert.All(received, n => Assert.Equal(("alarm.raised", "node.down.node.a", AlarmSeverity.Critical), (n.Event, n.Alarm.Id, n.Alarm.Severity)));
    }

    [Fact]
    public async Task Webhook_ReceiverHangs_PostNeverWaits()
    {
        using var release = new CancellationTokenSource();
        await using var receiver = await StartReceiverAsync(async http =>
        {
            await Task.Delay(System.Threading.Timeout.Infinite, release.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        var options = new MonitorOptions { Webhook = new WebhookOptions { Url = receiver.Url, Timeout = TimeSpan.FromSeconds(30), QueueLength = 10 } };
        await using var sinks = new AlarmSinks(options, TimeProvider.System, NullLogger<AlarmSinks>.Instance);

        // 1,000 posts against a hung receiver and a queue of 10: each returns at once (oldest dropped).
        var posting = Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                sinks.Post(Notification("a" + i));
            }
        });
        Assert.Same(posting, await Task.WhenAny(posting, Task.Delay(Timeout)));
        await release.CancelAsync();
    }

    [Fact]
    public async Task Exec_RunsTheHookWithTheAlarmInItsEnvironmentAndStdin()
    {
        using var dir = new TempDirectory("corral-exec");
        var output = dir.Combine("out.txt");
        var script = dir.Combine("hook.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$CORRAL_ALARM_EVENT\" \"$CORRAL_ALARM_ID\" \"$CORRAL_ALARM_SEVERITY\" \"$CORRAL_ALARM_SUBJECT\" > \"$1.tmp\"\ncat >> \"$1.tmp\"\nmv \"$1.tmp\" \"$1\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new MonitorOptions { Exec = new ExecHookOptions { Command = script, Args = [output] } };
        await using var sinks = new AlarmSinks(options, TimeProvider.System, NullLogger<AlarmSinks>.Instance);

        sinks.Post(Notification());

        await Eventually.TrueAsync(() => File.Exists(output), Timeout, "the exec hook to run");
        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal("alarm.raised|node.down.node.a|critical|node/a", lines[0]);
        var stdin = JsonSerializer.Deserialize(string.Join("\n", lines.Skip(1)), CoreJson.Default.AlarmNotification)!;
        Assert.Equal("node.down.node.a", stdin.Alarm.Id);
    }

    [Fact]
    public async Task Exec_HookOverItsTimeout_IsKilledAndTheNextRuns()
    {
        using var dir = new TempDirectory("corral-exec");
        var script = dir.Combine("hook.sh");
        var marker = dir.Combine("ran");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\nif [ \"$CORRAL_ALARM_ID\" = slow ]; then exec sleep 600; fi\necho \"$CORRAL_ALARM_ID\" > '{marker}'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new MonitorOptions { Exec = new ExecHookOptions { Command = script, Timeout = TimeSpan.FromMilliseconds(500) } };
        await using var sinks = new AlarmSinks(options, TimeProvider.System, NullLogger<AlarmSinks>.Instance);

        sinks.Post(Notification("slow"));
        sinks.Post(Notification("fast"));

        await Eventually.TrueAsync(() => File.Exists(marker), Timeout, "the second hook to run after the first was killed");
        Assert.Equal("fast", (await File.ReadAllTextAsync(marker)).Trim());
    }

    private static async Task<Receiver> StartReceiverAsync(RequestDelegate handler)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        return new Receiver(app, new Uri($"http://127.0.0.1:{port}/hook"));
    }

    private sealed record Receiver(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
