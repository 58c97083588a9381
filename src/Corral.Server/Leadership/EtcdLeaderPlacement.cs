using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Corral.Server.Metrics;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Etcd;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Leadership;

/// <summary>
/// Leader-only: keeps the etcd raft leader off this server's host. When the term starts, and then every
/// <see cref="EtcdPlacementOptions.Interval"/>, it asks this server's own etcd member which member leads; when that is
/// the local member and another voting member is healthy, follows it and is caught up, it hands etcd leadership to that
/// member (Maintenance.MoveLeader) and records a <c>store.leader.moved</c> event.
/// </summary>
/// <remarks>
/// Why: when the Corral leader's host dies, the new Corral leader takes over once the dead leader's lease expires. If
/// that host also ran the etcd leader, etcd must first elect a new one (1–2 election timeouts) and the new etcd leader
/// extends every lease by an election timeout, so the failover takes 1.5–2.5 election timeouts longer. And the two tend
/// to end up together: the server beside the etcd leader sees the old leader's key deleted first and wins the
/// campaign. Does nothing on SQLite, with fewer than three voting members (with two, losing this host loses the quorum
/// wherever the etcd leader is), or when no single member is local to this
/// server (see <see cref="EtcdPlacementOptions.LocalMemberName"/>).
/// </remarks>
public sealed class EtcdLeaderPlacement : ILeaderController
{
    private readonly ClusterState _state;
    private readonly EtcdPlacementOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EtcdLeaderPlacement> _logger;
    private string? _lastSkip;

    public EtcdLeaderPlacement(ClusterState state, EtcdPlacementOptions options, TimeProvider time, ILogger<EtcdLeaderPlacement> logger)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _state = state;
        _options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public string Name => "etcd-leader-placement";

    /// <inheritdoc />
    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (InstrumentedStore.Unwrap(_state.Store) is not EtcdStore)
        {
            // Nothing to place; a controller must not return while its term runs.
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }
        string? lastFailure = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PlaceOnceAsync(term, cancellationToken).ConfigureAwait(false);
                lastFailure = null;
            }
            catch (Exception e) when (e is StoreException or SocketException && !cancellationToken.IsCancellationRequested)
            {
                // Once per distinct error (e.g. MoveLeader refused for a non-root etcd user), not every pass.
                if (e.Message != lastFailure)
                {
                    lastFailure = e.Message;
                    LeadershipLog.EtcdPlacementFailed(_logger, e);
                }
            }
            await Task.Delay(_options.Interval, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <inheritdoc />
    public Task RevokeAsync(CancellationToken cancellationToken)
    {
        _lastSkip = null;
        return Task.CompletedTask;
    }

    /// <summary>One check, and a move when the local member leads; returns what it found or did.</summary>
    public async Task<EtcdPlacementOutcome> PlaceOnceAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (InstrumentedStore.Unwrap(_state.Store) is not EtcdStore etcd)
        {
            return EtcdPlacementOutcome.NotEtcd;
        }
        var members = await etcd.ListMembersAsync(cancellationToken).ConfigureAwait(false);
        var voting = members.Where(m => !m.IsLearner && m.ClientUrls.Count > 0).ToList();
        if (voting.Count < 3)
        {
            return EtcdPlacementOutcome.TooFewMembers;
        }
        var local = await FindLocalAsync(voting, cancellationToken).ConfigureAwait(false);
        if (local is null)
        {
            Skip(_options.LocalMemberName is { } name
                ? $"no voting etcd member is named '{name}' like this server's; the etcd leader is not kept off this host"
                : $"not exactly one etcd member has a client URL on this machine's addresses ({string.Join(", ", voting.Select(m => m.ClientUrls[0]))}); the etcd leader is not kept off this host");
            return EtcdPlacementOutcome.NoLocalMember;
        }
        var localStatus = await etcd.GetMemberStatusAsync(local, cancellationToken).ConfigureAwait(false);
        if (localStatus.Leader != local.Id)
        {
            _lastSkip = null;
            return EtcdPlacementOutcome.LeaderElsewhere;
        }
        var others = voting.Where(m => m.Id != local.Id).ToList();
        var statuses = await Task.WhenAll(others.Select(m => TryStatusAsync(etcd, m, cancellationToken))).ConfigureAwait(false);
        var candidates = others.Zip(statuses)
            .Where(p => p.Second is { IsHealthy: true, IsLearner: false } s && s.Leader == local.Id && s.RaftAppliedIndex + _options.MaxLag >= localStatus.RaftIndex)
            .OrderByDescending(p => p.Second!.RaftAppliedIndex)
            .ThenBy(p => p.First.Name, StringComparer.Ordinal)
            .ToList();
        if (candidates.Count == 0)
        {
            Skip($"the etcd leader is this host's member '{local.Name}', but no other voting member is healthy and caught up ({string.Join(", ", others.Zip(statuses).Select(p => Describe(p.First, p.Second, localStatus, _options.MaxLag)))})");
            return EtcdPlacementOutcome.NoHealthyTarget;
        }
        var target = candidates[0].First;
        await etcd.MoveLeaderAsync(target.Id, cancellationToken).ConfigureAwait(false);
        _lastSkip = null;
        var why = $"the Corral leader {term.ServerName} runs beside member {Show(local)}: a dead host would cost an etcd election and a lease extension on top of the leader's lease";
        LeadershipLog.EtcdLeaderMoved(_logger, Show(local), Show(target), why);
        try
        {
            await _state.Store.TxnAsync(new Txn([term.StillLeading()],
                [_state.EventOp("store.leader.moved", "store/etcd", $"etcd leader moved from {Show(local)} to {Show(target)}: {why}", term.Actor)], []), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            LeadershipLog.EventFailed(_logger, "store.leader.moved", e);
        }
        return EtcdPlacementOutcome.Moved;
    }

    private async Task<EtcdMemberInfo?> FindLocalAsync(List<EtcdMemberInfo> voting, CancellationToken cancellationToken)
    {
        if (_options.LocalMemberName is { } name)
        {
            return voting.FirstOrDefault(m => m.Name == name);
        }
        var own = LocalAddresses();
        var local = new List<EtcdMemberInfo>();
        foreach (var member in voting)
        {
            foreach (var url in member.ClientUrls)
            {
                if (await IsLocalAsync(url, own, cancellationToken).ConfigureAwait(false))
                {
                    local.Add(member);
                    break;
                }
            }
        }
        return local.Count == 1 ? local[0] : null;
    }

    private static HashSet<IPAddress> LocalAddresses()
    {
        var addresses = new HashSet<IPAddress>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var address in nic.GetIPProperties().UnicastAddresses)
            {
                addresses.Add(address.Address.IsIPv4MappedToIPv6 ? address.Address.MapToIPv4() : address.Address);
            }
        }
        return addresses;
    }

    private static async Task<bool> IsLocalAsync(string url, HashSet<IPAddress> own, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address))
        {
            return own.Contains(address);
        }
        try
        {
            var resolved = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false);
            return resolved.Any(own.Contains);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<EtcdMemberStatus?> TryStatusAsync(EtcdStore etcd, EtcdMemberInfo member, CancellationToken cancellationToken)
    {
        try
        {
            return await etcd.GetMemberStatusAsync(member, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            return null;
        }
    }

    private static string Describe(EtcdMemberInfo member, EtcdMemberStatus? status, EtcdMemberStatus leader, ulong maxLag) => status switch
    {
        null => $"{member.Name}: no answer",
        { IsHealthy: false } => $"{member.Name}: {(status.Errors.Count > 0 ? string.Join("; ", status.Errors) : "no leader")}",
        _ when status.Leader != leader.MemberId => $"{member.Name}: follows another leader",
        _ => $"{member.Name}: more than {maxLag} entries behind",
    };

    private static string Show(EtcdMemberInfo member) => $"'{member.Name}' ({member.Id:x})";

    /// <summary>Logs why nothing was moved, once until the reason changes.</summary>
    private void Skip(string what)
    {
        if (what != _lastSkip)
        {
            _lastSkip = what;
            LeadershipLog.EtcdPlacementSkipped(_logger, what);
        }
    }
}
