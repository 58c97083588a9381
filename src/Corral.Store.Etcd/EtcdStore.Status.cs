using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>
    /// The cluster as etcd reports it: the member list (from any reachable endpoint), then Maintenance.Status of every
    /// member in parallel (healthy when it answers without alarms; leader as the member itself reports), the current
    /// revision, the largest member database and the compaction revision (from Maintenance.HashKV, or the highest
    /// compaction this store knows of). When no endpoint answers, every configured endpoint is listed as unhealthy
    /// with the error, and the revision is 0.
    /// </summary>
    public async Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        MemberListResponse list;
        try
        {
            list = await CallAsync(EtcdMethods.MemberList, new MemberListRequest(), MemberListResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreUnavailableException or GrpcException)
        {
            var error = (e as GrpcException)?.StatusMessage ?? e.Message;
            var down = _endpoints.Urls.Select(endpoint => new StoreMember(endpoint, endpoint, false, false, error)).ToList();
            return new StoreStatus(Kind, 0, Volatile.Read(ref _compactedFloor), down, 0);
        }
        var probes = list.Members.Select(member => ProbeAsync(member, cancellationToken)).ToList();
        var results = await Task.WhenAll(probes).ConfigureAwait(false);
        var revision = Math.Max(list.Header.Revision, results.Max(r => r.Revision));
        if (revision == 0)
        {
            revision = await GetRevisionAsync(cancellationToken).ConfigureAwait(false);
        }
        var compacted = await CompactedRevisionAsync(cancellationToken).ConfigureAwait(false);
        return new StoreStatus(Kind, revision, compacted, [.. results.Select(r => r.Member)], results.Max(r => r.DbSize));
    }

    private async Task<(StoreMember Member, long Revision, long DbSize)> ProbeAsync(Member member, CancellationToken cancellationToken)
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
            var status = await channel.UnaryAsync(EtcdMethods.Status, new StatusRequest(), StatusResponse.Parser, _settings.Unary, cancellationToken).ConfigureAwait(false);
            var healthy = status.Errors.Count == 0 && status.Leader != 0;
            var error = status.Errors.Count > 0 ? string.Join("; ", status.Errors) : status.Leader == 0 ? "no leader" : null;
            return (new StoreMember(name, url, healthy, status.Leader == member.ID, error), status.Header.Revision, status.DbSize);
        }
        catch (GrpcException e)
        {
            return (new StoreMember(name, url, false, false, e.StatusMessage), 0, 0);
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
