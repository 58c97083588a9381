using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>
    /// Learns the cluster's members (etcd's Cluster.MemberList) and makes their client URLs this store's endpoints, like
    /// clientv3's auto-sync: <paramref name="preferred"/> (default: the current first endpoint, a server's own member)
    /// stays first and is never dropped, so an endpoint that is not a member URL (a load balancer) keeps working; then
    /// the members' URLs, those already known in their current order, new ones after them. Members that have not started
    /// (no client URL) and URLs of another scheme are left out. Returns the endpoints in use afterwards.
    /// </summary>
    public async Task<IReadOnlyList<string>> SyncEndpointsAsync(string? preferred = null, CancellationToken cancellationToken = default)
    {
        var members = await ListMembersAsync(cancellationToken).ConfigureAwait(false);
        var current = _endpoints.Urls;
        UseEndpoints(MergeEndpoints(preferred ?? current[0], current, members.SelectMany(m => m.ClientUrls)));
        return Endpoints;
    }

    /// <summary>
    /// Replaces the endpoints (same scheme as the configured ones, none twice); calls keep going to the current endpoint
    /// when it stays. Channels of endpoints dropped are closed when the store is disposed (calls may still use them).
    /// Returns true when the list changed. Throws <see cref="ArgumentException"/> naming a bad endpoint.
    /// </summary>
    public bool UseEndpoints(IReadOnlyList<string> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var errors = (_options with { Endpoints = endpoints }).Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid etcd endpoints:\n  " + string.Join("\n  ", errors), nameof(endpoints));
        }
        var scheme = new Uri(_options.Endpoints[0]).Scheme;
        if (endpoints.FirstOrDefault(e => new Uri(e).Scheme != scheme) is { } other)
        {
            throw new ArgumentException($"etcd endpoint '{other}' is not {scheme}:// like the configured endpoints", nameof(endpoints));
        }
        lock (_endpointsGate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var before = _endpoints;
            if (before.Urls.SequenceEqual(endpoints, StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }
            var channels = endpoints.Select(e => Array.FindIndex(before.Urls, u => SameEndpoint(u, e)) is var i and >= 0 ? before.Channels[i] : new GrpcChannel(new Uri(e), _channelOptions)).ToArray();
            _retired.AddRange(before.Channels.Where(c => !channels.Contains(c)));
            var currentUrl = EndpointAt(Volatile.Read(ref _current));
            _endpoints = new EndpointSet([.. endpoints], channels);
            Volatile.Write(ref _current, Math.Max(0, Array.FindIndex(_endpoints.Urls, u => SameEndpoint(u, currentUrl))));
            EtcdStoreLog.EndpointsChanged(_logger, string.Join(", ", endpoints), string.Join(", ", before.Urls));
            return true;
        }
    }

    /// <summary>
    /// The endpoint order <see cref="SyncEndpointsAsync"/> uses: <paramref name="preferred"/> first, then each member
    /// URL of the same scheme once, those in <paramref name="current"/> in its order, the rest in the order given.
    /// </summary>
    internal static IReadOnlyList<string> MergeEndpoints(string preferred, IReadOnlyList<string> current, IEnumerable<string> memberUrls)
    {
        var scheme = new Uri(preferred).Scheme;
        var members = memberUrls
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == scheme ? uri.GetLeftPart(UriPartial.Authority) : null)
            .OfType<string>()
            .Where(u => !SameEndpoint(u, preferred))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var known = current.Where(c => members.Any(m => SameEndpoint(m, c))).Select(c => members.First(m => SameEndpoint(m, c)));
        return [preferred, .. known, .. members.Where(m => !current.Any(c => SameEndpoint(m, c)))];
    }

    private static bool SameEndpoint(string a, string b) =>
        Uri.Compare(new Uri(a), new Uri(b), UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private int EndpointCount => _endpoints.Channels.Length;

    /// <summary>The channel at <paramref name="index"/>; an index from before the endpoints changed wraps around.</summary>
    private GrpcChannel ChannelAt(int index)
    {
        var channels = _endpoints.Channels;
        return channels[index % channels.Length];
    }

    private string EndpointAt(int index)
    {
        var urls = _endpoints.Urls;
        return urls[index % urls.Length];
    }

    /// <summary>The endpoints and their channels, swapped as a whole.</summary>
    private sealed record EndpointSet(string[] Urls, GrpcChannel[] Channels);
}
