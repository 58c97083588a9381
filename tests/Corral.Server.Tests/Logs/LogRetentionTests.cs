using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Logs;
using Corral.Server.State;
using Corral.Server.Tests.Controllers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Logs;

public class LogRetentionTests
{
    private static async Task PutChunkAsync(StoreHarness harness, string replica, long from, DateTimeOffset time, int textBytes)
    {
        var chunk = new AgentLogChunk(replica, "web", from, from + textBytes + 1, [new AgentLogLine(from, time, "stdout", new string('x', textBytes))], "n1");
        await harness.Store.PutAsync(Keys.LogChunk("web", replica, from), JsonSerializer.SerializeToUtf8Bytes(chunk, CoreJson.Default.AgentLogChunk));
    }

    private static async Task<List<string>> KeysAsync(StoreHarness harness) =>
        [.. (await harness.Store.RangeAsync(Keys.Logs)).Kvs.Select(k => k.Key)];

    [Fact]
    public async Task Retention_ChunksOlderThanMaxAge_DeletedWhenTheClockPassesThem()
    {
        await using var harness = new StoreHarness();
        var now = harness.Time.GetUtcNow();
        await PutChunkAsync(harness, "web-1", 0, now - TimeSpan.FromHours(3), 100);
        await PutChunkAsync(harness, "web-1", 200, now - TimeSpan.FromMinutes(30), 100);
        await PutChunkAsync(harness, "web-2", 0, now, 100);
        var controller = new LogRetentionController(harness.State, new LogRetentionOptions { MaxAge = TimeSpan.FromHours(1) }, harness.Time, NullLogger<LogRetentionController>.Instance);

        Assert.Equal(1, await controller.EnforceOnceAsync(CancellationToken.None));
        Assert.Equal([Keys.LogChunk("web", "web-1", 200), Keys.LogChunk("web", "web-2", 0)], await KeysAsync(harness));
        Assert.Equal(0, await controller.EnforceOnceAsync(CancellationToken.None));

        harness.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await controller.EnforceOnceAsync(CancellationToken.None));
        Assert.Equal([Keys.LogChunk("web", "web-2", 0)], await KeysAsync(harness));

        harness.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(1, await controller.EnforceOnceAsync(CancellationToken.None));
        Assert.Empty(await KeysAsync(harness));
    }

    [Fact]
    public async Task Retention_OverMaxBytes_OldestChunksDeletedUntilTheRestFits()
    {
        await using var harness = new StoreHarness();
        var now = harness.Time.GetUtcNow();
        const int size = 300 * 1024;
        // Five chunks of about 300 KiB, written oldest to newest across two replicas; 1 MiB holds three of them.
        for (var i = 0; i < 5; i++)
        {
            await PutChunkAsync(harness, i % 2 == 0 ? "web-1" : "web-2", i * (size + 10L), now - TimeSpan.FromMinutes(10 - i), size);
        }
        var controller = new LogRetentionController(harness.State, new LogRetentionOptions { MaxBytes = 1024 * 1024 }, harness.Time, NullLogger<LogRetentionController>.Instance);

        Assert.Equal(2, await controller.EnforceOnceAsync(CancellationToken.None));

        var kept = await KeysAsync(harness);
        Assert.Equal(3, kept.Count);
        Assert.DoesNotContain(Keys.LogChunk("web", "web-1", 0), kept);
        Assert.DoesNotContain(Keys.LogChunk("web", "web-2", size + 10L), kept);
        Assert.Equal(0, await controller.EnforceOnceAsync(CancellationToken.None));

        // A new chunk pushes the oldest kept one out.
        await PutChunkAsync(harness, "web-2", 9_000_000, now, size);
        Assert.Equal(1, await controller.EnforceOnceAsync(CancellationToken.None));
        Assert.DoesNotContain(Keys.LogChunk("web", "web-1", 2 * (size + 10L)), await KeysAsync(harness));
    }

    [Fact]
    public void RetentionOptions_OutOfRange_EveryFieldNamed()
    {
        var errors = new LogRetentionOptions { MaxBytes = 10, MaxAge = TimeSpan.FromSeconds(1), Interval = TimeSpan.Zero }.Validate();

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("MaxBytes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("MaxAge", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Interval", StringComparison.Ordinal));
        Assert.Empty(new LogRetentionOptions().Validate());
    }
}
