using Corral.Core;
using Corral.Core.Api;

namespace Corral.Client;

public sealed partial class CorralClient
{
    /// <summary>GET /v1/alarms: the active alarms, or with <paramref name="all"/> also the cleared ones kept for history.</summary>
    public async Task<IReadOnlyList<Alarm>> ListAlarmsAsync(bool all, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, all ? "v1/alarms?all=true" : "v1/alarms", null, CoreJson.Default.ListAlarm, cancellationToken).ConfigureAwait(false);

    /// <summary>POST /v1/alarms/{id}/ack (operator): acknowledges an alarm; idempotent. 404 as <see cref="CorralApiException"/> for an unknown id.</summary>
    public Task<Alarm> AcknowledgeAlarmAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/alarms/{Escape(id)}/ack", null, CoreJson.Default.Alarm, cancellationToken);

    /// <summary>GET /metrics: the Prometheus text exposition (needs a metrics or viewer key).</summary>
    public async Task<string> GetMetricsTextAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "metrics", null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }
}
