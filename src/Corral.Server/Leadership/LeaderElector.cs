using System.Runtime.CompilerServices;
using System.Text;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Leadership;

/// <summary>
/// Campaigns for the control plane's leadership (<see cref="Keys.LeaderElection"/>) and, during each term, runs every
/// <see cref="ILeaderController"/> under the term's token (Nomad's establishLeadership / revokeLeadership).
/// </summary>
/// <remarks>
/// A term ends when the store's leadership token is cancelled (lease lost, resigned, store unreachable) or the host
/// stops. The elector then cancels the controllers, waits for every run to return, revokes them, records
/// <c>leader.lost</c> and campaigns again. <c>leader.elected</c> is written under the term's own compare, so it is
/// never recorded by a server that no longer leads.
/// </remarks>
public sealed class LeaderElector : BackgroundService, ILeadershipState
{
    /// <summary>Delay before campaigning again after a failed campaign or a failed establish.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly IClusterStore _store;
    private readonly ClusterState _state;
    private readonly IReadOnlyList<ILeaderController> _controllers;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LeaderElector> _logger;
    private readonly IHostApplicationLifetime? _lifetime;

    /// <summary>Marked as volatile so that readers on other threads see a term as soon as it starts or ends.</summary>
    private volatile LeadershipTerm? _term;

    public LeaderElector(
        IClusterStore store,
        ClusterState state,
        IEnumerable<ILeaderController> controllers,
        ControlPlaneOptions options,
        TimeProvider time,
        ILogger<LeaderElector> logger,
        IHostApplicationLifetime? lifetime = null)
    {
        _lifetime = lifetime;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _controllers = [.. controllers ?? throw new ArgumentNullException(nameof(controllers))];
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.ThrowIfInvalid();
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public string ServerName => _options.ServerName;

    /// <inheritdoc />
    public bool IsLeader => _term is { } term && !term.Token.IsCancellationRequested;

    /// <inheritdoc />
    public LeadershipTerm? CurrentTerm => _term is { } term && !term.Token.IsCancellationRequested ? term : null;

    /// <inheritdoc />
    public async Task<string?> GetLeaderAsync(CancellationToken cancellationToken)
    {
        var leader = await _store.GetLeaderAsync(Keys.LeaderElection, cancellationToken).ConfigureAwait(false);
        return leader?.ValueString;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string?> ObserveLeaderAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var leader in _store.ObserveLeaderAsync(Keys.LeaderElection, cancellationToken).ConfigureAwait(false))
        {
            yield return leader?.ValueString;
        }
    }

    /// <inheritdoc />
    public async Task ResignAsync(CancellationToken cancellationToken)
    {
        if (_term is { } term)
        {
            try
            {
                await term.Leadership.ResignAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The term ended (and its leadership was disposed) while we were resigning it.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Stop leading as soon as the host starts stopping, before the web server drains its requests: a leader that
        // no longer takes heartbeats must not run the node monitor (it would mark every node down and evict replicas).
        using var stopping = _lifetime is null
            ? CancellationTokenSource.CreateLinkedTokenSource(stoppingToken)
            : CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _lifetime.ApplicationStopping);
        await RunAsync(stopping.Token).ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var election = _options.Election;
        var value = Encoding.UTF8.GetBytes(_options.ServerName);
        while (!stoppingToken.IsCancellationRequested)
        {
            ILeadership leadership;
            try
            {
                leadership = await _store.CampaignAsync(Keys.LeaderElection, value, election, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LeadershipLog.CampaignFailed(_logger, RetryDelay, e);
                await Task.Delay(RetryDelay, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            bool established;
            await using (leadership.ConfigureAwait(false))
            {
                established = await LeadAsync(new LeadershipTerm(leadership, _options.ServerName), stoppingToken).ConfigureAwait(false);
            }
            if (!established)
            {
                await Task.Delay(RetryDelay, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Runs one term to its end; false when a controller could not establish it.</summary>
    private async Task<bool> LeadAsync(LeadershipTerm term, CancellationToken stoppingToken)
    {
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(term.Token, stoppingToken);
        _term = term;
        LeadershipLog.Elected(_logger, _options.ServerName, term);
        await RecordAsync(
            "leader.elected",
            $"{_options.ServerName} leads the control plane (term {term.Term})",
            term.Actor,
            term.StillLeading(),
            leading.Token).ConfigureAwait(false);

        var established = new List<ILeaderController>();
        var runs = new List<Task>();
        var ok = true;
        try
        {
            foreach (var controller in _controllers)
            {
                try
                {
                    await controller.EstablishAsync(term, leading.Token).ConfigureAwait(false);
                    established.Add(controller);
                }
                catch (Exception e) when (!leading.IsCancellationRequested)
                {
                    LeadershipLog.EstablishFailed(_logger, controller.Name, term, e);
                    ok = false;
                    break;
                }
            }
            if (ok)
            {
                runs.AddRange(established.Select(c => RunControllerAsync(c, term, leading.Token)));
                await Task.WhenAll(runs).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (leading.IsCancellationRequested)
        {
        }
        finally
        {
            await leading.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(runs).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            for (var i = established.Count - 1; i >= 0; i--)
            {
                try
                {
                    using var revokeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
                    await established[i].RevokeAsync(revokeTimeout.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LeadershipLog.RevokeFailed(_logger, established[i].Name, e);
                }
            }
            _term = null;
        }

        var reason = !ok ? "a controller could not establish leadership"
            : stoppingToken.IsCancellationRequested ? "the server is stopping"
            : "the leadership lease was lost or resigned";
        LeadershipLog.Lost(_logger, _options.ServerName, term, reason);
        if (!ok)
        {
            await term.Leadership.ResignAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        using var eventTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
        await RecordAsync("leader.lost", $"{_options.ServerName} no longer leads (term {term.Term}): {reason}", term.Actor, null, eventTimeout.Token).ConfigureAwait(false);
        return ok;
    }

    private async Task RunControllerAsync(ILeaderController controller, LeadershipTerm term, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await controller.RunAsync(term, cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                throw new InvalidOperationException($"controller {controller.Name} returned while its term was still running");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LeadershipLog.ControllerFailed(_logger, controller.Name, RetryDelay, e);
            }
            await Task.Delay(RetryDelay, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RecordAsync(string kind, string message, string actor, Compare? guard, CancellationToken cancellationToken)
    {
        try
        {
            var op = _state.EventOp(kind, "server/" + _options.ServerName, message, actor);
            await _store.TxnAsync(new Txn(guard is null ? [] : [guard], [op], []), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException or ObjectDisposedException)
        {
            LeadershipLog.EventFailed(_logger, kind, e);
        }
    }
}
