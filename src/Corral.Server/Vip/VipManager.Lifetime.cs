using Corral.Core;
using Corral.Server.Leadership;
using Corral.Store;

namespace Corral.Server.Vip;

/// <summary>The VIP's kernel lifetime: set when a term is established and renewed with each acknowledged lease renewal.</summary>
public sealed partial class VipManager
{
    private const string BecameLeader = "the server became leader";

    private readonly ElectionOptions _election;

    /// <summary>False when the timing leaves no room for a whole-second lifetime: the address is then permanent.</summary>
    private readonly bool _lifetimes;

    // The fields below are read and written under _gate, for the term in _heldTerm.

    /// <summary>The address was added in this term (later additions are re-additions after a lapse).</summary>
    private bool _addedInTerm;

    /// <summary>From when the kernel may have deleted the address by itself (its lifetime ran out); null: not there.</summary>
    private DateTimeOffset? _lapseFrom;

    /// <summary>The step-down deadline the current lifetime was set for.</summary>
    private DateTimeOffset _appliedDeadline;

    /// <summary>The last renewal of the lifetime failed (logged once until one works again).</summary>
    private bool _renewFailing;

    /// <summary>That the address waits for a renewal answered sooner was logged in this term (once is enough).</summary>
    private bool _deferralLogged;

    /// <summary>Forgets the lifetime of an earlier term. Under the gate.</summary>
    private void ResetLifetime()
    {
        _addedInTerm = false;
        _deferralLogged = false;
        _lapseFrom = null;
        _appliedDeadline = DateTimeOffset.MinValue;
    }

    /// <summary>
    /// Adds the address, or extends it, with the lifetime <see cref="VipLifetime.For"/> gives for
    /// <paramref name="deadline"/> (the term's step-down deadline after an acknowledged renewal). Returns why to announce
    /// the address with gratuitous ARP when it was added (first in the term, or again after it may have lapsed), else
    /// null. Does nothing when the term is over or no longer the one this manager holds (a term never touches a later
    /// term's address), or when the deadline is too close for a lifetime of 1 s (the address may then lapse for a
    /// moment, and the next acknowledged renewal adds it again). Under the gate; synchronous, with no await between the
    /// clock reading and the kernel call. Throws <see cref="IOException"/> when the kernel refuses.
    /// </summary>
    private string? ApplyLifetime(LeadershipTerm term, DateTimeOffset deadline)
    {
        var now = _time.GetUtcNow();
        if (term.Token.IsCancellationRequested || !ReferenceEquals(_heldTerm, term))
        {
            return null;
        }
        if (VipLifetime.For(deadline, now) is not { } lifetime)
        {
            if (!_addedInTerm && !_deferralLogged)
            {
                _deferralLogged = true;
                VipLog.AddDeferred(_logger, _options.Cidr, term, Durations.Format(deadline - now));
            }
            return null;
        }
        var absent = _lapseFrom is not { } lapse || now >= lapse;
        VipAddress.Set(_options, lifetime);
        var after = _time.GetUtcNow();
        if (VipLifetime.Outlasts(after, lifetime, deadline))
        {
            // This process was held up (stopped, starved) between reading the clock and the kernel taking the request,
            // so the lifetime just set may end after the deadline, when another server may hold the address: take it
            // away now. If the term still runs, the next acknowledged renewal adds it again.
            VipAddress.Remove(_options);
            _lapseFrom = null;
            VipLog.RemovedLate(_logger, _options.Cidr, _options.Interface, term, Durations.Format(lifetime), deadline);
            return null;
        }
        // The kernel took the lifetime no earlier than `now`, and may delete the address a little before it ends.
        _lapseFrom = now + lifetime - VipLifetime.KernelEarliness;
        _appliedDeadline = deadline;
        if (!_addedInTerm)
        {
            _addedInTerm = true;
            VipLog.Added(_logger, _options.Cidr, _options.Interface, term, $"kernel lifetime {lifetime.TotalSeconds:0} s, renewed with each acknowledged lease renewal");
            return BecameLeader;
        }
        if (absent)
        {
            VipLog.Readded(_logger, _options.Cidr, _options.Interface, term);
            return "the address was added again after its kernel lifetime could not be extended in time";
        }
        return null;
    }

    /// <summary>
    /// For as long as <paramref name="term"/> lasts: after each acknowledged lease renewal, extends the address's
    /// lifetime to the new step-down deadline (adding it when it was deferred or lapsed, and announcing it then).
    /// </summary>
    private async Task FollowRenewalsAsync(LeadershipTerm term, CancellationToken stop)
    {
        try
        {
            await foreach (var deadline in term.ObserveStepDownDeadlineAsync(stop).ConfigureAwait(false))
            {
                string? announce;
                await _gate.WaitAsync(stop).ConfigureAwait(false);
                try
                {
                    if (deadline <= _appliedDeadline && ReferenceEquals(_heldTerm, term))
                    {
                        continue;
                    }
                    announce = ApplyLifetime(term, deadline);
                    if (_renewFailing)
                    {
                        _renewFailing = false;
                        VipLog.RenewRecovered(_logger, _options.Cidr, _options.Interface);
                    }
                }
                catch (IOException e)
                {
                    if (!_renewFailing)
                    {
                        _renewFailing = true;
                        VipLog.RenewFailed(_logger, _options.Cidr, _options.Interface, e);
                    }
                    continue;
                }
                finally
                {
                    _gate.Release();
                }
                if (announce is not null)
                {
                    SendBurst(term, announce);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The term ended (the removal is DropForEndedTermAsync's) or the elector revoked it.
        }
    }

    /// <summary>Stops following the renewals of the last established term and waits until it has.</summary>
    private async Task StopFollowingRenewalsAsync()
    {
        if (Interlocked.Exchange(ref _stopFollowing, null) is { } stop)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await _followingRenewals.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            stop.Dispose();
        }
    }
}
