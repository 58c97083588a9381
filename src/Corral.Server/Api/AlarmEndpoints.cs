using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Api;

internal static class AlarmEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/alarms", async (bool? all, ClusterState state, CancellationToken ct) =>
        {
            var alarms = await ReadAsync(state, ct).ConfigureAwait(false);
            var list = alarms.Values.Select(v => v.Alarm).Where(a => all == true || a.Active)
                .OrderBy(a => a.Active ? 0 : 1).ThenBy(a => a.Severity).ThenBy(a => a.FirstSeen).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
            return Results.Json(list, CoreJson.Default.ListAlarm);
        }).RequireRole(Role.Viewer);

        api.MapPost("/alarms/{id}/ack", async (string id, HttpContext http, ClusterState state, TimeProvider time, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var kv = await state.Store.GetAsync(Keys.Alarm(id), ct).ConfigureAwait(false);
                if (kv is null)
                {
                    return ApiProblems.NotFound($"no alarm '{id}' (see 'corral alarms ls --all')");
                }
                var alarm = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Alarm)!;
                if (alarm.Acknowledged)
                {
                    return Results.Json(alarm, CoreJson.Default.Alarm);
                }
                var acked = alarm with { Acknowledged = true, AcknowledgedBy = caller.Actor, AcknowledgedAt = time.GetUtcNow() };
                var txn = Txn.If(Compare.ModRevision(kv.Key, CompareOp.Equal, kv.ModRevision))
                    .Then(ClusterState.PutOp(kv.Key, acked, CoreJson.Default.Alarm), state.EventOp("alarm.acknowledged", alarm.Subject, $"alarm {alarm.Id} acknowledged", caller.Actor));
                if ((await state.Store.TxnAsync(txn, ct).ConfigureAwait(false)).Succeeded)
                {
                    return Results.Json(acked, CoreJson.Default.Alarm);
                }
            }
            return ApiProblems.Conflict($"alarm '{id}' kept changing; try again");
        }).RequireRole(Role.Operator);
    }

    /// <summary>Every stored alarm, by id, with its mod revision.</summary>
    public static async Task<Dictionary<string, (Alarm Alarm, long Revision)>> ReadAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var range = await state.Store.RangeAsync(Keys.Alarms, null, cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, (Alarm, long)>(StringComparer.Ordinal);
        foreach (var kv in range.Kvs)
        {
            var alarm = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Alarm)!;
            result[alarm.Id] = (alarm, kv.ModRevision);
        }
        return result;
    }
}
