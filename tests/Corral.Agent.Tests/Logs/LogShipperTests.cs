using System.Globalization;
using Corral.Agent.Logs;
using Corral.Core.Api;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Logs;

/// <summary>
/// The shipper against real segment files written by <see cref="TaskLogWriter"/> and a recording stand-in for the
/// server that stores chunks the way the server does (keyed by replica and first offset, a resend overwrites).
/// </summary>
public sealed class LogShipperTests : IDisposable
{
    private readonly TempDirectory _dir = new("corral-shipper");
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
    private readonly SortedDictionary<(string Replica, long From), AgentLogChunk> _stored = new();
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private readonly List<AgentLogBatch> _sent = [];

    /// <summary>What the stand-in server does with the next batch.</summary>
    private Func<AgentLogBatch, Task> _server;

    public LogShipperTests() => _server = batch =>
    {
        Store(batch);
        return Task.CompletedTask;
    };

    public void Dispose() => _dir.Dispose();

    private string Data => _dir.Path;

    private LogShipper NewShipper() => new(Data, "n1", (batch, _) =>
    {
        _sent.Add(batch);
        return _server(batch);
    }, () => _running, _time, new LogShipperOptions { ChunkReadBytes = 2048 });

    private string LogDirectory(string id) => Path.Combine(Data, "tasks", id, "logs");

    private TaskLogWriter Writer(string id) => new(LogDirectory(id), 1024, 1000, _time);

    private static void WriteNumbers(TaskLogWriter writer, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            writer.WriteLine("stdout", System.Text.Encoding.UTF8.GetBytes("number " + i.ToString("D5", CultureInfo.InvariantCulture)));
        }
        writer.Flush();
    }

    private void Store(AgentLogBatch batch)
    {
        foreach (var chunk in batch.Chunks)
        {
            _stored[(chunk.ReplicaId, chunk.From)] = chunk;
        }
    }

    /// <summary>The stored lines of <paramref name="replica"/> as a reader sees them: in offset order, each offset once.</summary>
    private List<string> Shipped(string replica)
    {
        var last = -1L;
        var result = new List<string>();
        foreach (var chunk in _stored.Where(s => s.Key.Replica == replica).Select(s => s.Value))
        {
            foreach (var line in chunk.Lines.Where(l => l.Offset > last))
            {
                result.Add(line.Text);
                last = line.Offset;
            }
        }
        return result;
    }

    private static async Task DrainAsync(LogShipper shipper)
    {
        for (var i = 0; i < 1000 && await shipper.ShipOnceAsync(CancellationToken.None); i++)
        {
        }
    }

    private static IEnumerable<string> Numbers(int from, int count) =>
        Enumerable.Range(from, count).Select(i => "number " + i.ToString("D5", CultureInfo.InvariantCulture));

    [Fact]
    public async Task ShipOnce_ManySegments_EveryLineShippedOnceInOrderAndOnlyTheNewestSegmentKept()
    {
        _running.Add("web-1");
        using var writer = Writer("web-1");
        WriteNumbers(writer, 0, 300);
        var shipper = NewShipper();
        Assert.True(LogSegment.List(LogDirectory("web-1")).Count > 10);

        await DrainAsync(shipper);

        Assert.Equal(Numbers(0, 300), Shipped("web-1"));
        Assert.Equal(writer.Offset, shipper.Acknowledged("web-1"));
        Assert.True(_sent.Count > 1, "a 2 KiB chunk limit needs several batches");
        Assert.All(_sent.SelectMany(b => b.Chunks), c => Assert.Equal("web", c.Service));
        var kept = Assert.Single(LogSegment.List(LogDirectory("web-1")));
        Assert.True(kept.Start <= writer.Offset && kept.Start > 0);

        // The writer keeps appending to the kept segment; shipping continues from the acknowledged offset.
        WriteNumbers(writer, 300, 5);
        await DrainAsync(shipper);
        Assert.Equal(Numbers(0, 305), Shipped("web-1"));
    }

    [Fact]
    public async Task ShipOnce_OneLargeSegment_SaysThereIsMoreUntilTheLastLineIsShipped()
    {
        _running.Add("web-1");
        using var writer = new TaskLogWriter(LogDirectory("web-1"), 10 * 1024 * 1024, 5, _time);
        WriteNumbers(writer, 0, 500);
        var shipper = NewShipper();

        var passes = 1;
        while (await shipper.ShipOnceAsync(CancellationToken.None))
        {
            passes++;
            Assert.True(passes < 100, "the shipper keeps saying there is more");
        }

        Assert.True(passes > 5, $"500 lines in 2 KiB chunks took {passes} passes");
        Assert.Equal(Numbers(0, 500), Shipped("web-1"));
        Assert.Equal(writer.Offset, shipper.Acknowledged("web-1"));
    }

    [Fact]
    public async Task ShipOnce_MoreChattyReplicasThanABatchHolds_EveryReplicaGetsItsTurn()
    {
        var writers = Enumerable.Range(0, 40).Select(i => $"web-{i:D2}").ToDictionary(id => id, Writer);
        foreach (var (id, writer) in writers)
        {
            _running.Add(id);
            WriteNumbers(writer, 0, 1);
        }
        var shipper = NewShipper();

        Assert.True(await shipper.ShipOnceAsync(CancellationToken.None));
        foreach (var writer in writers.Values)
        {
            WriteNumbers(writer, 1, 1);
        }
        await shipper.ShipOnceAsync(CancellationToken.None);

        Assert.Equal(32, _sent[0].Chunks.Count);
        Assert.All(writers.Keys, id => Assert.Contains("number 00000", Shipped(id)));
        foreach (var writer in writers.Values)
        {
            writer.Dispose();
        }
    }

    [Fact]
    public async Task ShipOnce_SendFailsOrItsAnswerIsLost_NothingAdvancesAndTheResendAfterARestartDuplicatesNothing()
    {
        _running.Add("web-1");
        using var writer = Writer("web-1");
        WriteNumbers(writer, 0, 20);
        var segments = LogSegment.List(LogDirectory("web-1")).Count;
        var shipper = NewShipper();

        _server = _ => throw new HttpRequestException("connection refused");
        await Assert.ThrowsAsync<HttpRequestException>(() => shipper.ShipOnceAsync(CancellationToken.None));
        Assert.Null(shipper.Acknowledged("web-1"));
        Assert.Equal(segments, LogSegment.List(LogDirectory("web-1")).Count);

        // The server stores the batch but the answer never arrives.
        _server = batch =>
        {
            Store(batch);
            throw new HttpRequestException("connection reset");
        };
        await Assert.ThrowsAsync<HttpRequestException>(() => shipper.ShipOnceAsync(CancellationToken.None));
        Assert.Null(shipper.Acknowledged("web-1"));
        var firstFrom = _sent[^1].Chunks[0].From;

        // A new agent (same data dir) ships the same lines again, from the same offset, plus what was written since.
        WriteNumbers(writer, 20, 10);
        _server = batch =>
        {
            Store(batch);
            return Task.CompletedTask;
        };
        var restarted = NewShipper();
        await DrainAsync(restarted);

        Assert.Equal(firstFrom, _sent[2].Chunks[0].From);
        Assert.Equal(Numbers(0, 30), Shipped("web-1"));
        Assert.Equal(writer.Offset, restarted.Acknowledged("web-1"));
    }

    [Fact]
    public async Task ShipOnce_EndedReplica_ShippedToItsEndThenForgotten_RunningOneKept()
    {
        _running.Add("web-1");
        using (var ended = Writer("web-2"))
        {
            WriteNumbers(ended, 0, 40);
        }
        using var writer = Writer("web-1");
        WriteNumbers(writer, 0, 3);
        var shipper = NewShipper();
        shipper.Learn([new Assignment("web-2", "api", "v1", new TaskSpec { Command = "/bin/true" }, false, TimeSpan.Zero)]);

        await DrainAsync(shipper);
        await shipper.ShipOnceAsync(CancellationToken.None);

        Assert.Equal(Numbers(0, 40), Shipped("web-2"));
        Assert.All(_sent.SelectMany(b => b.Chunks).Where(c => c.ReplicaId == "web-2"), c => Assert.Equal("api", c.Service));
        Assert.False(Directory.Exists(LogDirectory("web-2")), "the ended replica's log is gone once shipped");
        Assert.Null(shipper.Acknowledged("web-2"));
        Assert.True(Directory.Exists(LogDirectory("web-1")));
        Assert.Equal(writer.Offset, shipper.Acknowledged("web-1"));
        Assert.Equal(Numbers(0, 3), Shipped("web-1"));
    }

    [Fact]
    public async Task ShipOnce_ReplicaWithAHandleRecord_IsNotForgottenWhileTheAgentHasNoRunnerForIt()
    {
        using (var writer = Writer("web-3"))
        {
            WriteNumbers(writer, 0, 2);
        }
        Directory.CreateDirectory(Path.Combine(Data, "handles"));
        await File.WriteAllTextAsync(Path.Combine(Data, "handles", "web-3.json"), "{}");
        var shipper = NewShipper();

        await DrainAsync(shipper);
        await shipper.ShipOnceAsync(CancellationToken.None);

        Assert.True(Directory.Exists(LogDirectory("web-3")));
        Assert.Equal(Numbers(0, 2), Shipped("web-3"));
    }

    [Fact]
    public void Options_OutOfRange_EveryFieldNamed()
    {
        var errors = new LogShipperOptions { Interval = TimeSpan.Zero, RetryInterval = TimeSpan.Zero, ChunkReadBytes = 1, MaxLineChars = 1, MaxChunks = 0 }.Validate();

        Assert.Equal(5, errors.Count);
        Assert.Throws<ArgumentException>(() => new LogShipper(Data, "n1", (_, _) => Task.CompletedTask, () => [], _time, new LogShipperOptions { MaxChunks = 1000 }));
    }
}
