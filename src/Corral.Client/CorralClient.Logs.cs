using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Client;

public sealed partial class CorralClient
{
    /// <summary>
    /// GET /v1/logs: the kept lines of <paramref name="service"/>'s replicas, oldest first, optionally only those of
    /// one node or replica, since a time (a duration such as <c>10m</c>, or an RFC 3339 time) and the last
    /// <paramref name="tail"/>; with <paramref name="follow"/> new lines keep coming until <paramref name="cancellationToken"/>
    /// is cancelled or the server goes away: the enumeration then ends, normally when the server shut down, or with a
    /// <see cref="CorralConnectionException"/> whose inner exception is the broken stream's.
    /// 404 when there is no such service and no kept log of one; 400 for a bad since or tail.
    /// </summary>
    public async IAsyncEnumerable<LogRecord> GetLogsAsync(
        string service,
        string? node,
        string? replicaId,
        string? since,
        int? tail,
        bool follow,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = new StringBuilder("v1/logs");
        Query(path, "service", service);
        Query(path, "node", node);
        Query(path, "replica", replicaId);
        Query(path, "since", since);
        Query(path, "tail", tail?.ToString(CultureInfo.InvariantCulture));
        Query(path, "follow", follow ? "true" : null);
        using var response = await SendAsync(HttpMethod.Get, path.ToString(), null, TimeSpan.Zero, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                {
                    throw new CorralConnectionException($"{Show(PreferredAddress)}: the log stream broke: {e.Message}", e);
                }
                if (line is null)
                {
                    yield break;
                }
                if (line.Length == 0)
                {
                    continue;
                }
                LogRecord? record;
                try
                {
                    record = JsonSerializer.Deserialize(line, CoreJson.Default.LogRecord);
                }
                catch (JsonException e)
                {
                    throw new CorralApiException(response.StatusCode, "unexpected answer", $"GET v1/logs sent a line that is not a log record: {e.Message}", []);
                }
                if (record is not null)
                {
                    yield return record;
                }
            }
        }
    }
}
