using System.Text;
using System.Text.Json;
using Corral.Client;
using Corral.Core.Api;

namespace Corral.IntegrationTests;

/// <summary>
/// One real <c>corral dev</c> cluster for the whole class (see <see cref="DevCluster"/>); every test works through
/// <see cref="CorralClient"/> on its own uniquely named stack and services, and removes them when it is done.
/// </summary>
public sealed partial class DevClusterTests : IClassFixture<DevCluster>
{
    /// <summary>Bound for a change to converge (processes started, health checks passed) on a loaded machine.</summary>
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(90);

    private readonly DevCluster _cluster;

    public DevClusterTests(DevCluster cluster)
    {
        _cluster = cluster;
    }

    private CorralClient Client => _cluster.Client;

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Polls the service until <paramref name="condition"/> holds; the failure names the last state seen.</summary>
    private async Task<ServiceView> WaitServiceAsync(string name, Func<ServiceView, bool> condition, string what, TimeSpan? timeout = null)
    {
        ServiceView? last = null;
        try
        {
            return await _cluster.WaitAsync(async () =>
            {
                last = await Client.GetServiceAsync(name, Ct).ConfigureAwait(false);
                return condition(last) ? last : null;
            }, timeout ?? Converge, $"service {name}: {what}").ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"last seen: {Describe(last)}\n{e.Message}", e);
        }
    }

    /// <summary>Waits until exactly <paramref name="desired"/> replicas exist, all assigned, healthy and (when given) on <paramref name="version"/>.</summary>
    private Task<ServiceView> WaitAllHealthyAsync(string name, int desired, string? version = null) =>
        WaitServiceAsync(name,
            s => s.Desired == desired && s.Replicas.Count == desired && s.Healthy == desired
                && s.Replicas.All(r => r.Replica.Healthy && r.Pid is not null && (version is null || r.Replica.Version == version)),
            $"{desired} healthy replicas" + (version is null ? "" : $" of version {version}"));

    /// <summary>Waits until exactly <paramref name="desired"/> replicas run (for services without a health check).</summary>
    private Task<ServiceView> WaitAllRunningAsync(string name, int desired) =>
        WaitServiceAsync(name,
            s => s.Desired == desired && s.Replicas.Count == desired && s.Running == desired && s.Replicas.All(r => r.Pid is not null),
            $"{desired} running replicas");

    /// <summary>Waits until the service has no replica left (every stop confirmed by the node).</summary>
    private Task WaitNoReplicasAsync(string name) =>
        _cluster.WaitAsync(async () => (await Client.ListReplicasAsync(name, null, Ct).ConfigureAwait(false)).Count == 0 ? (bool?)true : null,
            Converge, $"service {name} to have no replicas");

    /// <summary>Waits until the process is gone (it may take a moment after the stop is confirmed to be reaped).</summary>
    private Task WaitDeadAsync(int pid, string what) =>
        _cluster.WaitAsync(() => Task.FromResult(Testing.ProcessReaper.IsAlive(pid) ? null : (bool?)true), TimeSpan.FromSeconds(30), what);

    /// <summary>Removes a test's service so later tests run on a quiet cluster; does not wait for the stops.</summary>
    private async Task RemoveQuietlyAsync(params string[] names)
    {
        foreach (var name in names)
        {
            try
            {
                await Client.RemoveServiceAsync(name, Ct).ConfigureAwait(false);
            }
            catch (CorralApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
    }

    /// <summary>The PID the agent's <c>status.json</c> shows for a replica (0 when none runs), or null when it lists no such replica.</summary>
    private int? StatusFilePid(string replicaId)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(_cluster.AgentStatusPath));
        return document.RootElement.GetProperty("replicas").TryGetProperty(replicaId, out var replica) && replica.TryGetProperty("pid", out var pid)
            ? pid.GetInt32()
            : null;
    }

    internal static string Describe(ServiceView? service)
    {
        if (service is null)
        {
            return "(nothing)";
        }
        var text = new StringBuilder()
            .Append($"{service.Spec.Name}@{service.Version}: desired {service.Desired}, running {service.Running}, healthy {service.Healthy}, pending {service.Pending}");
        foreach (var r in service.Replicas)
        {
            text.Append($"\n  {Describe(r)}");
        }
        return text.ToString();
    }

    internal static string Describe(ReplicaView r) =>
        $"{r.Replica.Id} v{r.Replica.Version} #{r.Replica.CreatedRevision} {r.Replica.Phase}/{r.Replica.State?.ToString() ?? "-"} pid {r.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} {r.Replica.Reason}";
}
