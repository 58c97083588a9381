using System.Threading.Channels;
using Corral.Core;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Hosting;

namespace Corral.Server.Vip;

/// <summary>
/// Holds the virtual IP while this server leads (keepalived's MASTER state, decided by the store's election instead of
/// VRRP): adds the address and sends gratuitous ARP when a term is established, again a few seconds later and whenever
/// leadership is re-confirmed after failed confirmations, and removes the address the moment the term's token is
/// cancelled. The elector cancels that token <see cref="ElectionOptions.StepDownMargin"/> before the lease could expire
/// when renewals go unacknowledged, so the address is gone before another server can win the lease and add it.
/// The removal is tied to the token itself, not to the elector's revocation, which may wait for other controllers'
/// establishment or for this manager's own event writes into a store that is no longer reachable.
/// </summary>
/// <remarks>
/// <para>A process that is frozen (SIGSTOP, hung, a paused container) cannot remove anything when its term ends, so the
/// address also carries a kernel lifetime that ends by the term's step-down deadline and is renewed with each
/// acknowledged lease renewal (<see cref="VipLifetime"/>): the kernel deletes it by itself. A timing too short for a
/// whole-second lifetime (<c>--timing fast</c>) keeps a permanent address, and says so once at start.</para>
/// <para>Register it before the other controllers (<see cref="VipServiceCollectionExtensions.AddCorralVip"/>) so it is
/// established first. Notify hooks run one at a time, in order, off the path that adds and removes the address.</para>
/// </remarks>
public sealed partial class VipManager : ILeaderController, IHostedService, IAsyncDisposable
{
    private readonly VipOptions _options;
    private readonly ClusterState _state;
    private readonly ControlPlaneOptions _controlPlane;
    private readonly TimeProvider _time;
    private readonly ILogger<VipManager> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<(string Path, string Role, string Reason)> _hooks = Channel.CreateUnbounded<(string, string, string)>(new UnboundedChannelOptions { SingleReader = true });
    private Task _hookRunner = Task.CompletedTask;
    private bool _holding;
    private LeadershipTerm? _heldTerm;
    private CancellationTokenRegistration _dropOnTermEnd;
    private volatile bool _confirmFailing;
    private Task _followingRenewals = Task.CompletedTask;
    private CancellationTokenSource? _stopFollowing;

    public VipManager(VipOptions options, ClusterState state, ControlPlaneOptions controlPlane, TimeProvider time, ILogger<VipManager> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _controlPlane = controlPlane ?? throw new ArgumentNullException(nameof(controlPlane));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _election = controlPlane.Election;
        _lifetimes = VipLifetime.Fits(_election);
    }

    /// <inheritdoc />
    public string Name => "vip";

    /// <summary>True while this server has the address on its interface (as far as this manager put it there).</summary>
    public bool Holding => _holding;

    /// <summary>
    /// Removes an address left on the interface by an earlier run (a crash while leading), says once when the timing
    /// allows no kernel lifetime, then runs the follower hook.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _hookRunner = Task.Run(RunHooksAsync, CancellationToken.None);
        if (!_lifetimes)
        {
            VipLog.NoLifetime(_logger, _options.Cidr, Durations.Format(_election.GrantedTtl), Durations.Format(_election.EffectiveStepDownMargin), Durations.Format(VipLifetime.Least + VipLifetime.KernelLateness));
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_holding && VipAddress.IsAssigned(_options.Interface, _options.Address))
            {
                VipAddress.Remove(_options);
                VipLog.RemovedStale(_logger, _options.Cidr, _options.Interface);
            }
        }
        finally
        {
            _gate.Release();
        }
        Enqueue(_options.OnFollower, "follower", "the server started and does not lead");
    }

    /// <summary>Drops the address if held and lets queued hooks finish (bounded by the hook timeout).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await DropAsync("the server is stopping", CancellationToken.None).ConfigureAwait(false);
        _hooks.Writer.TryComplete();
        await _hookRunner.WaitAsync(_options.HookTimeout + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <inheritdoc />
    public async Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        _confirmFailing = false;
        string? announce;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (term.Token.IsCancellationRequested)
            {
                return;
            }
            // From here on the term's end removes the address at once (after the addition, if it is under way: the
            // removal waits for the gate), wherever the elector or this method is then.
            await _dropOnTermEnd.DisposeAsync().ConfigureAwait(false);
            _heldTerm = term;
            _dropOnTermEnd = term.Token.UnsafeRegister(static state =>
            {
                var (manager, ended) = ((VipManager, LeadershipTerm))state!;
                _ = Task.Run(() => manager.DropForEndedTermAsync(ended));
            }, (this, term));
            // Counted as held from before the addition: an addition cut short by the term's end may still have
            // put the address there, and the removal must not skip it.
            _holding = true;
            ResetLifetime();
            if (_lifetimes)
            {
                announce = ApplyLifetime(term, term.StepDownDeadline);
                // From now on every acknowledged renewal extends the lifetime (and adds the address if it was deferred or
                // lapsed), whatever the elector does meanwhile: other controllers may take a while to establish. It
                // stops with the term, or when the elector revokes (a server stopping revokes before its term ends).
                // (An earlier term's follower is normally stopped by its revocation already.)
                _stopFollowing?.Cancel();
                _stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(term.Token);
                var stop = _stopFollowing.Token;
                _followingRenewals = Task.Run(() => FollowRenewalsAsync(term, stop), CancellationToken.None);
            }
            else
            {
                VipAddress.Set(_options, null);
                announce = BecameLeader;
                VipLog.Added(_logger, _options.Cidr, _options.Interface, term, "permanent (no kernel lifetime with this timing)");
            }
        }
        catch (Exception e) when (e is IOException)
        {
            _holding = false;
            _heldTerm = null;
            VipLog.AddFailed(_logger, _options.Cidr, _options.Interface, e);
            Enqueue(_options.OnFault, "fault", "could not add the virtual IP: " + e.Message);
            throw;
        }
        finally
        {
            _gate.Release();
        }
        if (announce is not null)
        {
            SendBurst(term, announce);
        }
        // Bounded by the term too: a leader cut off from the store must not sit here, holding up the elector, after
        // its term ended.
        await RecordAsync("vip.added", $"{_controlPlane.ServerName} holds {_options.Cidr} on {_options.Interface} (term {term.Term})", term.Token).ConfigureAwait(false);
        Enqueue(_options.OnLeader, "leader", $"elected leader (term {term.Term})");
    }

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        var repeatAt = _time.GetUtcNow() + _options.GratuitousArpRepeat;
        var repeated = false;
        var failures = 0;
        try
        {
            while (true)
            {
                var now = _time.GetUtcNow();
                var wait = !repeated && repeatAt - now < _options.ConfirmInterval ? repeatAt - now : _options.ConfirmInterval;
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _time, cancellationToken).ConfigureAwait(false);
                if (!repeated && _time.GetUtcNow() >= repeatAt)
                {
                    repeated = true;
                    SendBurst(term, "a few seconds after becoming leader");
                }
                if (await ConfirmAsync(term, cancellationToken).ConfigureAwait(false))
                {
                    if (failures > 0)
                    {
                        VipLog.Reconfirmed(_logger, failures, term);
                        SendBurst(term, $"leadership re-confirmed after {failures} failed confirmations");
                    }
                    failures = 0;
                }
                else
                {
                    failures++;
                }
                _confirmFailing = failures > 0;
            }
        }
        finally
        {
            if (term.Token.IsCancellationRequested || cancellationToken.IsCancellationRequested)
            {
                await DropAsync(term.Token.IsCancellationRequested ? "the leadership term ended" : "the server is stopping", CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task RevokeAsync(CancellationToken cancellationToken)
    {
        await DropAsync("the leadership term ended", cancellationToken).ConfigureAwait(false);
        await StopFollowingRenewalsAsync().ConfigureAwait(false);
        string role;
        string reason;
        if (_confirmFailing || !await StoreReachableAsync(cancellationToken).ConfigureAwait(false))
        {
            role = "fault";
            reason = "leadership could not be renewed: the store is unreachable from this server";
        }
        else
        {
            role = "follower";
            reason = "leadership was lost, resigned or the server is stopping";
        }
        Enqueue(role == "fault" ? _options.OnFault : _options.OnFollower, role, reason);
        await RecordAsync("vip.removed", $"{_controlPlane.ServerName} released {_options.Cidr}: {reason}").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _dropOnTermEnd.DisposeAsync().ConfigureAwait(false);
        await StopFollowingRenewalsAsync().ConfigureAwait(false);
        _hooks.Writer.TryComplete();
        await _hookRunner.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _gate.Dispose();
    }

    /// <summary>Removes the address when <paramref name="ended"/>'s token fires, unless a later term holds it by then.</summary>
    private async Task DropForEndedTermAsync(LeadershipTerm ended)
    {
        try
        {
            await DropAsync("the leadership term ended", CancellationToken.None, ended).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // DropAsync logged a failed removal; the elector's revocation tries again.
        }
    }

    /// <summary>
    /// Removes the address if this manager holds it (for <paramref name="onlyFor"/>, when given). Safe to call
    /// repeatedly and concurrently.
    /// </summary>
    private async Task DropAsync(string reason, CancellationToken cancellationToken, LeadershipTerm? onlyFor = null)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_holding || (onlyFor is not null && !ReferenceEquals(_heldTerm, onlyFor)))
            {
                return;
            }
            try
            {
                VipAddress.Remove(_options);
                _holding = false;
                _heldTerm = null;
                ResetLifetime();
                VipLog.Removed(_logger, _options.Cidr, _options.Interface, reason);
            }
            catch (IOException e)
            {
                VipLog.RemoveFailed(_logger, _options.Cidr, _options.Interface, e);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>True when the store answers that this term's lease still holds the leader key.</summary>
    private async Task<bool> ConfirmAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConfirmInterval);
        try
        {
            var leader = await _state.Store.GetLeaderAsync(Keys.LeaderElection, timeout.Token).ConfigureAwait(false);
            return leader?.LeaseId == term.LeaseId;
        }
        catch (Exception e) when (e is StoreException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private async Task<bool> StoreReachableAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await _state.Store.GetLeaderAsync(Keys.LeaderElection, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends a burst of gratuitous ARP for the address, unless <paramref name="term"/> is over or past its step-down
    /// deadline: a process that was frozen and runs again must not pull clients to its MAC before it notices that its
    /// term ended (another server may hold the address by then).
    /// </summary>
    private void SendBurst(LeadershipTerm term, string why)
    {
        if (term.Token.IsCancellationRequested || !ReferenceEquals(_heldTerm, term) || _time.GetUtcNow() >= term.StepDownDeadline)
        {
            return;
        }
        try
        {
            using var socket = ArpSocket.Open(_options.Interface);
            for (var i = 0; i < _options.GratuitousArpCount; i++)
            {
                if (i > 0 && _options.GratuitousArpSpacing > TimeSpan.Zero)
                {
                    Thread.Sleep(_options.GratuitousArpSpacing);
                }
                socket.SendGratuitous(_options.Address);
            }
            VipLog.GratuitousArp(_logger, _options.GratuitousArpCount, _options.Address.ToString(), _options.Interface, why);
        }
        catch (IOException e)
        {
            VipLog.GratuitousArpFailed(_logger, _options.Interface, e);
        }
    }

    private void Enqueue(string? path, string role, string reason)
    {
        if (path is not null)
        {
            _hooks.Writer.TryWrite((path, role, reason));
        }
    }

    private async Task RunHooksAsync()
    {
        await foreach (var (path, role, reason) in _hooks.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var result = await VipHooks.RunAsync(path, role, reason, _controlPlane.ServerName, _options, CancellationToken.None).ConfigureAwait(false);
            VipLog.HookRan(_logger, result.Describe());
            await RecordAsync("vip.hook", result.Describe()).ConfigureAwait(false);
        }
    }

    private async Task RecordAsync(string kind, string message, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            await _state.AppendEventAsync(kind, "server/" + _controlPlane.ServerName, message, "server:" + _controlPlane.ServerName, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException or ObjectDisposedException)
        {
            VipLog.EventFailed(_logger, kind, e);
        }
    }
}
