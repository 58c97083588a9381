using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>
/// Leader-only: marks a node <see cref="NodeStatus.Down"/> (with <c>node.down</c>) once it has sent no heartbeat for
/// <see cref="ControlPlaneOptions.HeartbeatGrace"/> (down since its last heartbeat, or since this term began when it
/// sent none to this leader), and <see cref="NodeStatus.Ready"/> again (with <c>node.up</c>) as
/// soon as a down node heartbeats. Only these transitions write to the store.
/// </summary>
/// <remarks>
/// A new term counts every node as seen at the moment the term was established: a server that just became leader
/// has no heartbeats yet and must not declare the whole cluster down.
/// </remarks>
public sealed class NodeMonitor : ILeaderController
{
    private readonly ClusterState _state;
    private readonly HeartbeatTable _heartbeats;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<NodeMonitor> _logger;
    private DateTimeOffset _establishedAt;

    public NodeMonitor(ClusterState state, HeartbeatTable heartbeats, ControlPlaneOptions options, TimeProvider time, ILogger<NodeMonitor> logger)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _heartbeats = heartbeats ?? throw new ArgumentNullException(nameof(heartbeats));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public string Name => "node-monitor";

    /// <summary>How often nodes are checked: a fifth of the grace, between 100 ms and 1 s.</summary>
    public TimeSpan CheckInterval => TimeSpan.FromTicks(Math.Clamp(_options.HeartbeatGrace.Ticks / 5, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));

    /// <inheritdoc />
    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        _establishedAt = _time.GetUtcNow();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await CheckOnceAsync(term, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
            {
                ControllersLog.PassFailed(_logger, e);
            }
            await _heartbeats.WaitForReturnAsync(CheckInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task RevokeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Checks every node once and commits the transitions due; returns how many nodes changed status.</summary>
    public async Task<int> CheckOnceAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        var now = _time.GetUtcNow();
        var range = await _state.Store.RangeAsync(Keys.Nodes, null, cancellationToken).ConfigureAwait(false);
        var changes = new List<(string Node, NodeStatus Status, TimeSpan Silence, Txn Txn)>();
        foreach (var kv in range.Kvs)
        {
            var node = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Node)!;
            var lastSeen = _heartbeats.Get(node.Name)?.LastSeen;
            var effective = lastSeen is { } seen && seen > _establishedAt ? seen : _establishedAt;
            var silence = now - effective;
            Node? next = null;
            string kind = "", message = "";
            var compares = new List<Compare> { term.StillLeading(), Compare.ModRevision(kv.Key, CompareOp.Equal, kv.ModRevision) };
            if (node.Status == NodeStatus.Ready && silence >= _options.HeartbeatGrace)
            {
                // Down since the node fell silent, not since this check noticed it: eviction timeouts count from the
                // last heartbeat, so the grace and this check's period do not add to how long a lost node's work waits.
                next = node with { Status = NodeStatus.Down, StatusSince = effective };
                kind = "node.down";
                message = $"no heartbeat for {Durations.Format(silence)} (heartbeat_grace {Durations.Format(_options.HeartbeatGrace)})";
                // One guarded record decides: no server may still hold the node's liveness key, by which it vouched for
                // a heartbeat the agent counts as contact (see LivenessRelay). This view of the keys may lag the store.
                compares.Add(Compare.NoneUnder(Keys.NodeLiveness(node.Name, "")));
            }
            else if (node.Status == NodeStatus.Down && lastSeen is { } back && back > node.StatusSince)
            {
                next = node with { Status = NodeStatus.Ready, StatusSince = now };
                kind = "node.up";
                message = $"heartbeating again after {Durations.Format(now - node.StatusSince)} down";
            }
            else
            {
                if (node.Status == NodeStatus.Down)
                {
                    _heartbeats.MarkDown(node.Name);
                }
                continue;
            }
            changes.Add((node.Name, next.Status, silence, new Txn(compares, [ClusterState.PutNode(next), _state.EventOp(kind, "node/" + node.Name, message, term.Actor)], [])));
        }

        // One transaction per node: a node whose record or liveness changed under this check waits for the next one
        // without holding up the others.
        var committed = 0;
        foreach (var change in changes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await _state.Store.TxnAsync(change.Txn, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                if (change.Status == NodeStatus.Down)
                {
                    ControllersLog.NodeDownRefused(_logger, change.Node, change.Silence);
                }
                continue;
            }
            committed++;
            if (change.Status == NodeStatus.Down)
            {
                _heartbeats.MarkDown(change.Node);
                ControllersLog.NodeDown(_logger, change.Node, change.Silence);
            }
            else
            {
                _heartbeats.MarkUp(change.Node);
                ControllersLog.NodeUp(_logger, change.Node);
            }
        }
        return committed;
    }
}
