using System.Net;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Logs;

namespace Corral.Server.Tests.Api;

public sealed class LogApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddMinutes(-30);
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static AgentLogChunk Chunk(string replica, long from, TimeSpan after, params string[] texts)
    {
        var lines = new List<AgentLogLine>();
        var offset = from;
        foreach (var text in texts)
        {
            lines.Add(new AgentLogLine(offset, T0 + after, "stdout", text));
            offset += 40 + text.Length;
            after += TimeSpan.FromSeconds(1);
        }
        return new AgentLogChunk(replica, "web", from, offset, lines);
    }

    private Task WriteAsync(string node, params AgentLogChunk[] chunks) =>
        new LogStore(_server.State.Store).WriteAsync(node, chunks, CancellationToken.None);

    private static async Task<List<LogRecord>> RecordsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize(l, CoreJson.Default.LogRecord)!)];
    }

    [Fact]
    public async Task GetLogs_Filters_ReturnMatchingLinesOldestFirst()
    {
        await WriteAsync("n1", Chunk("web-1", 0, TimeSpan.Zero, "a1", "a2", "a3"));
        await WriteAsync("n2", Chunk("web-2", 0, TimeSpan.FromMilliseconds(500), "b1", "b2"));
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));

        var all = await RecordsAsync(await viewer.GetAsync("/v1/logs?service=web"));
        var node2 = await RecordsAsync(await viewer.GetAsync("/v1/logs?service=web&node=n2"));
        var replica1 = await RecordsAsync(await viewer.GetAsync("/v1/logs?service=web&replica=web-1&tail=2"));
        var since = Uri.EscapeDataString((T0 + TimeSpan.FromSeconds(1.2)).ToString("O"));
        var recent = await RecordsAsync(await viewer.GetAsync($"/v1/logs?service=web&since={since}"));
        var lastHour = await RecordsAsync(await viewer.GetAsync("/v1/logs?service=web&since=1h&tail=100"));

        Assert.Equal(["a1", "b1", "a2", "b2", "a3"], all.Select(r => r.Text));
        Assert.Equal(new LogRecord("web", "web-1", "n1", "stdout", 0, T0, "a1"), all[0]);
        Assert.Equal(["b1", "b2"], node2.Select(r => r.Text));
        Assert.All(node2, r => Assert.Equal("n2", r.Node));
        Assert.Equal(["a2", "a3"], replica1.Select(r => r.Text));
        Assert.Equal(["b2", "a3"], recent.Select(r => r.Text));
        Assert.Equal(5, lastHour.Count);
    }

    [Fact]
    public async Task GetLogs_BadQueryOrUnknownService_400WithFieldsOr404()
    {
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));
        using var anonymous = _server.Client();

        using var bad = await viewer.GetAsync("/v1/logs?service=web&since=yesterday&tail=-1&follow=maybe");
        using var missing = await viewer.GetAsync("/v1/logs");
        using var unknown = await viewer.GetAsync("/v1/logs?service=nope");
        using var unauthorized = await anonymous.GetAsync("/v1/logs?service=web");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("\"since\"", problem, StringComparison.Ordinal);
        Assert.Contains("\"tail\"", problem, StringComparison.Ordinal);
        Assert.Contains("\"follow\"", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("\"service\"", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task GetLogs_Follow_StreamsNewLinesOnceEvenWhenAChunkIsResent()
    {
        var first = Chunk("web-1", 0, TimeSpan.Zero, "one", "two");
        await WriteAsync("n1", first);
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var response = await viewer.GetAsync("/v1/logs?service=web&tail=1&follow=true", HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
        async Task<string> NextAsync() => JsonSerializer.Deserialize(await reader.ReadLineAsync(stop.Token) ?? "null", CoreJson.Default.LogRecord)!.Text;

        Assert.Equal("two", await NextAsync());
        // The first chunk again (a resend after a lost acknowledgement), then a chunk with new lines.
        await WriteAsync("n1", first);
        await WriteAsync("n1", Chunk("web-1", first.Next, TimeSpan.FromSeconds(5), "three"));
        await WriteAsync("n2", Chunk("web-2", 0, TimeSpan.FromSeconds(6), "four"));

        Assert.Equal("three", await NextAsync());
        Assert.Equal("four", await NextAsync());
    }
}
