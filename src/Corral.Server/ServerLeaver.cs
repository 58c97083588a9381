using System.Globalization;
using System.Text.Json;
using Corral.Store.Etcd;
using Microsoft.Extensions.Logging;

namespace Corral.Server;

/// <summary>
/// <c>corral server leave</c>: removes this server's managed etcd member from the cluster through etcd's member API,
/// unless that would break the quorum, and retires the data directory so it cannot start again by mistake.
/// </summary>
public static class ServerLeaver
{
    /// <summary>
    /// Removes this server's member; throws <see cref="InvalidOperationException"/> with the explanation when it must not
    /// (server still running, last member, or the members left could not form a majority).
    /// </summary>
    public static async Task<string> LeaveAsync(string dataDir, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var paths = new ServerPaths(Path.GetFullPath(dataDir));
        if (!paths.IsInitialized)
        {
            throw new InvalidOperationException($"{paths.DataDir} is not an initialized server data directory (no {paths.ServerConfig})");
        }
        var config = JsonSerializer.Deserialize(File.ReadAllText(paths.ServerConfig), ServerJson.Default.ServerConfig)
            ?? throw new InvalidOperationException($"{paths.ServerConfig} is empty");
        if (config.ManagedEtcd is null)
        {
            throw new InvalidOperationException($"server '{config.Name}' does not run a managed etcd member (it was not set up with --ha or server join): there is nothing to leave; just stop it");
        }
        if (MemberRunning(paths))
        {
            throw new InvalidOperationException($"server '{config.Name}' is still running (its etcd member runs): stop 'corral server run' on this machine first, then leave");
        }
        await using var store = new EtcdStore(config.ToStoreConfig().ToEtcdOptions() with { RetryTimeout = TimeSpan.FromSeconds(5) }, time, loggers.CreateLogger<EtcdStore>());
        var members = await store.ListMembersAsync(cancellationToken).ConfigureAwait(false);
        var me = members.FirstOrDefault(m => m.Name == config.Name || m.PeerUrls.Contains(config.ManagedEtcd.PeerUrl, StringComparer.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"server '{config.Name}' has no etcd member in the cluster (already left?)");
        if (members.Count == 1)
        {
            throw new InvalidOperationException($"server '{config.Name}' holds the cluster's only etcd member: it cannot leave without destroying the cluster's store");
        }
        var status = await store.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        var healthyOthers = status.Members.Where(m => State.QuorumMonitor.Reachable(m) && m.Name != me.Name).Select(m => m.Name).ToList();
        var remaining = members.Count - 1;
        var majority = remaining / 2 + 1;
        if (healthyOthers.Count < majority)
        {
            var unhealthy = status.Members.Where(m => !State.QuorumMonitor.Reachable(m) && m.Name != me.Name).Select(m => m.Name);
            throw new InvalidOperationException(
                $"leaving would break the quorum: {remaining} etcd members would remain, {majority} of them must be up, but only {healthyOthers.Count} answer"
                + (healthyOthers.Count > 0 ? $" ({string.Join(", ", healthyOthers)})" : "")
                + $". Bring {string.Join(", ", unhealthy)} back first (or remove a dead server with 'corral server leave' on its data directory).");
        }
        var left = await store.RemoveMemberAsync(me.Id, cancellationToken).ConfigureAwait(false);
        File.Move(paths.ServerConfig, paths.ServerConfig + ".left", overwrite: true);
        if (Directory.Exists(paths.EtcdDataDir))
        {
            Directory.Delete(paths.EtcdDataDir, recursive: true);
        }
        var size = left.Count;
        return $"server '{config.Name}' left: its etcd member {me.Id.ToString("x", CultureInfo.InvariantCulture)} is removed; {size} member(s) remain (majority {size / 2 + 1}, tolerates {(size - 1) / 2} failure(s)). {paths.ServerConfig} was renamed to server.json.left.";
    }

    private static bool MemberRunning(ServerPaths paths)
    {
        var pidFile = paths.EtcdDataDir + ".pid";
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(paths.EtcdDataDir, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
