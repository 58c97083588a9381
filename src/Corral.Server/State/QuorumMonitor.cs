using Corral.Store;
using Corral.Store.Etcd;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.State;

/// <summary>
/// Watches whether the store has its quorum (every <see cref="Interval"/>), so that while it is lost the server refuses
/// writes at once with a clear 503 instead of letting each one time out, and serves reads from the etcd member's own
/// copy (<see cref="EtcdStore.ServeStaleReads"/>). When the quorum returns, everything resumes by itself. The embedded
/// SQLite store always has its quorum.
/// <para>
/// Quorum means what etcd means by it: a majority of the members answers. A probe asks every member at once
/// (<see cref="EtcdStore.ProbeMembersAsync"/>, each answer bounded by the store's status timeout, 1 s by default), so
/// a silent member — a frozen process, a host cut off without a reset — counts as one member that does not answer
/// and never holds up the judgement of the others. When the members' answers show no majority, a linearizable read
/// (which etcd serves only through a leader that a majority follows) has the last word: if it succeeds, the quorum holds.
/// </para>
/// <para>
/// The quorum is declared lost only when the probes keep finding no majority for <see cref="LostAfter"/>: while etcd
/// elects a new leader the members answer "no leader" for up to about two election timeouts, and that is not a quorum
/// loss. While a probe finds no majority, the next comes after <see cref="RecheckInterval"/>. One probe that finds a
/// majority ends the loss at once. A probe that cannot finish at all (the whole probe past <see cref="ProbeBudget"/>)
/// changes nothing: it is neither evidence of a majority nor of its absence.
/// </para>
/// </summary>
public sealed partial class QuorumMonitor : BackgroundService
{
    /// <summary>How often the store's members are probed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How long the probes must find no majority before the quorum counts as lost (covers an etcd election).</summary>
    public static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(2);

    /// <summary>How soon a probe follows one that found no majority.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The most one probe may take, member answers and the confirming read together.</summary>
    public static readonly TimeSpan ProbeBudget = TimeSpan.FromSeconds(4);

    private readonly IClusterStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<QuorumMonitor> _logger;
    private volatile Judgement? _lost;
    private DateTimeOffset? _failingSince;

    public QuorumMonitor(IClusterStore store, TimeProvider time, ILogger<QuorumMonitor> logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>True while the probes have found fewer answering members than a majority for <see cref="LostAfter"/> or longer.</summary>
    public bool QuorumLost => _lost is not null;

    /// <summary>Why writes are refused now, for the 503 problem; null while the quorum holds.</summary>
    public string? LostReason => _lost is { } judgement
        ? $"the store has lost its quorum: {judgement.Answering} of {judgement.Members} etcd members answer and {judgement.Majority} are needed. "
          + "Writes are refused until a majority is back (a write refused this way was not applied); reads are served from this server's copy and may be stale; replicas keep running. "
          + "Restart the stopped members (see docs/ha.md, 'Recovering from quorum loss')."
        : null;

    /// <summary>A member that answers, healthy or only without a leader (it cannot find a majority either).</summary>
    public static bool Reachable(StoreMember member) => member.Healthy || member.Error?.Contains("no leader", StringComparison.Ordinal) == true;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_store.Kind == "sqlite")
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            await ProbeOnceAsync(stoppingToken).ConfigureAwait(false);
            var next = _failingSince is not null && _lost is null ? RecheckInterval : Interval;
            await Task.Delay(next, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Probes the store once and updates <see cref="QuorumLost"/>.</summary>
    internal async Task ProbeOnceAsync(CancellationToken cancellationToken)
    {
        Judgement? judgement;
        try
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(ProbeBudget);
            judgement = await JudgeAsync(budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException or IOException or HttpRequestException)
        {
            ProbeUnfinished(_logger, ProbeBudget, e.Message);
            return;
        }
        if (judgement is null)
        {
            return;
        }
        var now = _time.GetUtcNow();
        var wasLost = _lost is not null;
        if (judgement.HasQuorum)
        {
            if (wasLost)
            {
                QuorumRestored(_logger, judgement.Answering, judgement.Members, now - _failingSince!.Value);
            }
            else if (_failingSince is { } since)
            {
                MajorityBack(_logger, judgement.Answering, judgement.Members, now - since, LostAfter);
            }
            _failingSince = null;
            _lost = null;
        }
        else
        {
            if (_failingSince is null)
            {
                _failingSince = now;
                NoMajority(_logger, judgement.Answering, judgement.Members, judgement.Majority, judgement.Details, LostAfter);
            }
            if (wasLost || now - _failingSince.Value >= LostAfter)
            {
                if (!wasLost)
                {
                    QuorumLostLog(_logger, judgement.Answering, judgement.Members, judgement.Majority, now - _failingSince.Value, judgement.Details);
                }
                _lost = judgement;
            }
        }
        if (Metrics.InstrumentedStore.Unwrap(_store) is EtcdStore etcd)
        {
            // Reads go to the member's own copy from the first probe without a majority: they answer during an
            // election too, and a read has nothing to refuse.
            etcd.ServeStaleReads = !judgement.HasQuorum;
        }
    }

    /// <summary>One judgement: the members' answers, and the linearizable read when they show no majority.</summary>
    private async Task<Judgement?> JudgeAsync(CancellationToken cancellationToken)
    {
        if (Metrics.InstrumentedStore.Unwrap(_store) is not EtcdStore etcd)
        {
            var status = await _store.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            return new Judgement(status.HasQuorum, status.Members.Count(Reachable), status.Members.Count, status.Majority, Describe(status.Members));
        }
        var probe = await etcd.ProbeMembersAsync(cancellationToken).ConfigureAwait(false);
        var details = Describe(probe.Members);
        if (probe.HasQuorum)
        {
            return new Judgement(true, probe.Members.Count(Reachable), probe.Members.Count, probe.Majority, details);
        }
        // The members' answers show no majority; a read that only a leader followed by a majority may serve says
        // otherwise when it succeeds (a member answered late, or its status lagged).
        try
        {
            await etcd.ConfirmQuorumAsync(cancellationToken).ConfigureAwait(false);
            ConfirmedByRead(_logger, probe.Members.Count(Reachable), probe.Members.Count, details);
            return new Judgement(true, probe.Members.Count(Reachable), probe.Members.Count, probe.Majority, details);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new Judgement(false, probe.Members.Count(Reachable), probe.Members.Count, probe.Majority, details);
        }
    }

    private static string Describe(IReadOnlyList<StoreMember> members)
    {
        var silent = members.Where(m => !m.Healthy).Select(m => $"{m.Name}: {m.Error ?? "unhealthy"}").ToList();
        return silent.Count == 0 ? "every member answers" : string.Join("; ", silent);
    }

    /// <param name="Answering">Members that answer, with or without a leader (<see cref="Reachable"/>).</param>
    private sealed record Judgement(bool HasQuorum, int Answering, int Members, int Majority, string Details);

    [LoggerMessage(EventId = 4800, Level = LogLevel.Error, Message = "Quorum lost: {Answering} of {Members} etcd members answer, {Majority} needed, for {Duration} ({Details}); refusing writes")]
    private static partial void QuorumLostLog(ILogger logger, int answering, int members, int majority, TimeSpan duration, string details);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Warning, Message = "Quorum back: {Answering} of {Members} etcd members answer after {Duration} without a majority; accepting writes")]
    private static partial void QuorumRestored(ILogger logger, int answering, int members, TimeSpan duration);

    [LoggerMessage(EventId = 4802, Level = LogLevel.Warning, Message = "Quorum probe: {Answering} of {Members} etcd members answer, {Majority} needed ({Details}); writes are refused if no majority answers for {LostAfter}")]
    private static partial void NoMajority(ILogger logger, int answering, int members, int majority, string details, TimeSpan lostAfter);

    [LoggerMessage(EventId = 4803, Level = LogLevel.Information, Message = "Quorum probe: a majority answers again ({Answering} of {Members}) after {Duration}, less than {LostAfter}: the quorum was never lost")]
    private static partial void MajorityBack(ILogger logger, int answering, int members, TimeSpan duration, TimeSpan lostAfter);

    [LoggerMessage(EventId = 4804, Level = LogLevel.Debug, Message = "Quorum probe: {Answering} of {Members} etcd members answered their status in time ({Details}), but a linearizable read succeeded: the quorum holds")]
    private static partial void ConfirmedByRead(ILogger logger, int answering, int members, string details);

    [LoggerMessage(EventId = 4805, Level = LogLevel.Warning, Message = "Quorum probe did not finish within {Budget} ({Error}); the last judgement stands")]
    private static partial void ProbeUnfinished(ILogger logger, TimeSpan budget, string error);
}
