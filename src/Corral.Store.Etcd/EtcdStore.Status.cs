using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>
    /// The cluster as etcd reports it: the members and their health (<see cref="ProbeMembersAsync"/>), the current
    /// revision, the largest member database and the compaction revision (from Maintenance.HashKV, or the highest
    /// compaction this store knows of). Every call to a member is bounded by <see cref="EtcdStoreOptions.StatusTimeout"/>,
    /// so a silent member costs at most that long and is reported unhealthy. When no endpoint answers, every configured
    /// endpoint is listed as unhealthy with the error, and the revision is 0.
    /// </summary>
    public async Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var probe = await ProbeMembersAsync(cancellationToken).ConfigureAwait(false);
        if (probe.ListedBy is null)
        {
            return new StoreStatus(Kind, 0, Volatile.Read(ref _compactedFloor), probe.Members, 0);
        }
        var revision = probe.Revision;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_options.StatusTimeout);
        try
        {
            if (revision == 0)
            {
                revision = await GetRevisionAsync(bounded.Token).ConfigureAwait(false);
            }
            await CompactedRevisionAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or StoreException && !cancellationToken.IsCancellationRequested)
        {
            // The members' own answers are what a status is for; the revision and compaction stay as known.
        }
        return new StoreStatus(Kind, revision, Volatile.Read(ref _compactedFloor), probe.Members, probe.DbSize);
    }

    /// <summary>
    /// Which members answer, as etcd judges a quorum: the member list from whichever endpoint answers first (all asked
    /// at once), then Maintenance.Status of every listed member in parallel, each bounded by
    /// <see cref="EtcdStoreOptions.StatusTimeout"/>. A member is healthy when it answers without alarms and knows a
    /// leader. Nothing waits on the slowest member beyond that bound, and nothing here is retried: the caller probes
    /// again. Cheap enough to call every second (no HashKV, no read through the raft leader).
    /// </summary>
    public async Task<EtcdMemberProbe> ProbeMembersAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Username is not null && _settings.Token is null)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(_options.StatusTimeout);
            try
            {
                await AuthenticateAsync(null, bounded.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or StoreException or GrpcException && !cancellationToken.IsCancellationRequested)
            {
                // Asked without a token: the members answer what they may, or refuse and count as not answering.
            }
        }
        var endpoints = _endpoints;
        var settings = _settings.Unary with { Timeout = _options.StatusTimeout };
        MemberListResponse? list = null;
        string? listedBy = null;
        var errors = new List<string>();
        using (var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var asks = endpoints.Channels.Select(async (channel, i) =>
            {
                var answer = await channel.UnaryAsync(EtcdMethods.MemberList, new MemberListRequest(), MemberListResponse.Parser, settings, first.Token).ConfigureAwait(false);
                return (answer, endpoints.Urls[i]);
            }).ToList();
            while (asks.Count > 0 && list is null)
            {
                var done = await Task.WhenAny(asks).ConfigureAwait(false);
                asks.Remove(done);
                try
                {
                    (list, listedBy) = await done.ConfigureAwait(false);
                }
                catch (GrpcException e)
                {
                    errors.Add(e.StatusMessage);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
            }
            await first.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(asks.Select(a => a.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default))).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (list is null)
        {
            var error = errors.Count > 0 ? errors[0] : $"no answer within {_options.StatusTimeout.TotalMilliseconds:0} ms";
            return new EtcdMemberProbe([.. endpoints.Urls.Select(endpoint => new StoreMember(endpoint, endpoint, false, false, error))], null, 0, 0);
        }
        var results = await Task.WhenAll(list.Members.Select(member => ProbeAsync(member, settings, cancellationToken))).ConfigureAwait(false);
        foreach (var (member, _, _) in results.Where(r => r.Member.Endpoint.Length > 0))
        {
            // Failovers avoid a member that did not answer in time, and go back to one that answers.
            if (member.Healthy)
            {
                Trust(member.Endpoint);
                FailBackTo(member.Endpoint);
            }
            else if (member.Error?.StartsWith("no answer within", StringComparison.Ordinal) == true)
            {
                Suspect(member.Endpoint);
            }
        }
        var revision = Math.Max(list.Header.Revision, results.Length == 0 ? 0 : results.Max(r => r.Revision));
        return new EtcdMemberProbe([.. results.Select(r => r.Member)], listedBy, revision, results.Length == 0 ? 0 : results.Max(r => r.DbSize));
    }

    /// <summary>
    /// Succeeds when the cluster serves a linearizable read within <see cref="EtcdStoreOptions.StatusTimeout"/>: etcd
    /// answers one only through a leader that has just confirmed, with a majority, that it still leads — so the cluster
    /// has its quorum. Throws <see cref="StoreUnavailableException"/> otherwise. Unaffected by <see cref="ServeStaleReads"/>.
    /// </summary>
    public async Task ConfirmQuorumAsync(CancellationToken cancellationToken = default)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_options.StatusTimeout);
        try
        {
            await CallAsync(EtcdMethods.Range, new RangeRequest { Key = EtcdConvert.Nul, CountOnly = true, Serializable = false }, RangeResponse.Parser, idempotent: true, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StoreUnavailableException($"no linearizable read answered within {_options.StatusTimeout.TotalMilliseconds:0} ms");
        }
        catch (GrpcException e)
        {
            throw new StoreUnavailableException("a linearizable read failed: " + e.StatusMessage, e);
        }
    }

    private async Task<(StoreMember Member, long Revision, long DbSize)> ProbeAsync(Member member, GrpcCallOptions settings, CancellationToken cancellationToken)
    {
        var name = member.Name.Length > 0 ? member.Name : member.ID.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        if (member.ClientURLs.Count == 0)
        {
            return (new StoreMember(name, "", false, false, "member has not started (no client URL)"), 0, 0);
        }
        var url = member.ClientURLs[0];
        var channel = FindChannel(url);
        var transient = channel is null;
        channel ??= new GrpcChannel(new Uri(url), _channelOptions);
        try
        {
            var status = await channel.UnaryAsync(EtcdMethods.Status, new StatusRequest(), StatusResponse.Parser, settings, cancellationToken).ConfigureAwait(false);
            var healthy = status.Errors.Count == 0 && status.Leader != 0;
            var error = status.Errors.Count > 0 ? string.Join("; ", status.Errors) : status.Leader == 0 ? "no leader" : null;
            return (new StoreMember(name, url, healthy, status.Leader == member.ID, error), status.Header.Revision, status.DbSize);
        }
        catch (GrpcException e)
        {
            var error = e.StatusCode == GrpcStatusCode.DeadlineExceeded ? $"no answer within {settings.Timeout?.TotalMilliseconds:0} ms" : e.StatusMessage;
            return (new StoreMember(name, url, false, false, error), 0, 0);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (new StoreMember(name, url, false, false, $"no answer within {settings.Timeout?.TotalMilliseconds:0} ms"), 0, 0);
        }
        finally
        {
            if (transient)
            {
                channel.Dispose();
            }
        }
    }

    private GrpcChannel? FindChannel(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return null;
        }
        foreach (var channel in _endpoints.Channels)
        {
            if (Uri.Compare(channel.Address, uri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                return channel;
            }
        }
        return null;
    }
}
