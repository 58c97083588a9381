using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Store;

namespace Corral.Server.State;

/// <summary>
/// Typed access to the cluster state kept in <see cref="IClusterStore"/> under <see cref="Keys"/>. Reads are
/// consistent snapshots at one revision; writes that depend on what was read go through transactions that compare
/// mod revisions, so a decision made on stale state is refused rather than applied.
/// </summary>
public sealed class ClusterState(IClusterStore store, TimeProvider time)
{
    /// <summary>
    /// Keys per range page of a snapshot read. Each page of a SQLite read costs a scan of what remains of the prefix, so
    /// small pages make a read quadratic: 100,000 replicas took 1.1 s in pages of 2,000 and 0.33 s in pages of 10,000.
    /// A page of 10,000 replicas is about 5 MB, well under the etcd client's 64 MiB message limit.
    /// </summary>
    private const int ReadPageSize = 10_000;

    public IClusterStore Store { get; } = store;

    /// <summary>Reads services, replicas and nodes at one revision.</summary>
    public async Task<ClusterSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var revision = await Store.GetRevisionAsync(cancellationToken).ConfigureAwait(false);
        var services = await ReadPrefixAsync(Keys.Services, revision, CoreJson.Default.ServiceSpec, s => s.Name, cancellationToken).ConfigureAwait(false);
        var replicas = await ReadPrefixAsync(Keys.Replicas, revision, CoreJson.Default.Replica, r => r.Id, cancellationToken).ConfigureAwait(false);
        var nodes = await ReadPrefixAsync(Keys.Nodes, revision, CoreJson.Default.Node, n => n.Name, cancellationToken).ConfigureAwait(false);
        return new ClusterSnapshot(revision, services, replicas, nodes);
    }

    public async Task<Versioned<ServiceSpec>?> GetServiceAsync(string name, CancellationToken cancellationToken) =>
        await GetAsync(Keys.Service(name), CoreJson.Default.ServiceSpec, cancellationToken).ConfigureAwait(false);

    public async Task<Versioned<Node>?> GetNodeAsync(string name, CancellationToken cancellationToken) =>
        await GetAsync(Keys.Node(name), CoreJson.Default.Node, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// An event to append in the same transaction as the change it records. Its service and node are taken from
    /// <paramref name="subject"/> (<c>service/NAME</c>, <c>node/NAME</c>) unless given.
    /// </summary>
    public TxnOp EventOp(string kind, string subject, string message, string actor, string? service = null, string? node = null)
    {
        var now = time.GetUtcNow();
        var evt = new ClusterEvent(0, now, kind, subject, message, actor)
        {
            Service = service ?? SubjectName(subject, "service/"),
            Node = node ?? SubjectName(subject, "node/"),
        };
        // Keys sort by time, then a random suffix: unique without coordination; readers order by revision. The part
        // after the prefix is the event's id (not stored in the value).
        var key = $"{Keys.Events}{Math.Max(0, now.ToUnixTimeMilliseconds()):D15}-{Guid.NewGuid():N}";
        return new TxnOp.Put(key, JsonSerializer.SerializeToUtf8Bytes(evt, CoreJson.Default.ClusterEvent));
    }

    /// <summary>An event about <paramref name="replica"/> (subject <c>replica/ID</c>), carrying its service and its node (or <paramref name="node"/>).</summary>
    public TxnOp ReplicaEventOp(string kind, Replica replica, string message, string actor, string? node = null)
    {
        ArgumentNullException.ThrowIfNull(replica);
        return EventOp(kind, "replica/" + replica.Id, message, actor, replica.Service, node ?? replica.Node);
    }

    /// <summary>Appends one event on its own.</summary>
    public async Task AppendEventAsync(string kind, string subject, string message, string actor, CancellationToken cancellationToken) =>
        await Store.TxnAsync(new Txn([], [EventOp(kind, subject, message, actor)], []), cancellationToken).ConfigureAwait(false);

    /// <summary>Events with a revision above <paramref name="afterRevision"/>, oldest first, at most <paramref name="limit"/> (see <see cref="ReadEventsAsync"/>).</summary>
    public Task<EventPage> EventsAfterAsync(long afterRevision, int limit, CancellationToken cancellationToken) =>
        ReadEventsAsync(new EventQuery(afterRevision, limit), cancellationToken);

    /// <summary>
    /// The events <paramref name="query"/> asks for, ordered by revision (then id), all read at one revision. At most
    /// <see cref="EventQuery.Limit"/> of them, except that the events of one revision are never split (so paging by
    /// <see cref="EventPage.Index"/> never loses one); the page's index is the last returned event's revision, or the
    /// revision the read was served at when there is none.
    /// </summary>
    /// <remarks>
    /// Event keys sort by time, so <see cref="EventQuery.Since"/> starts the read at that time's key and
    /// <see cref="EventQuery.Tail"/> reads backwards from the newest key, page by page, until it has enough matching
    /// events: neither reads the whole prefix. A read by revision only reads the whole prefix, which retention bounds
    /// (the leader's event retention: 10,000 events and 7 days by default).
    /// </remarks>
    public async Task<EventPage> ReadEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var after = query.Since is { } since ? Keys.Events + Math.Max(0, since.ToUnixTimeMilliseconds()).ToString("D15", System.Globalization.CultureInfo.InvariantCulture) : null;
        var found = new List<ClusterEvent>();
        long revision = 0;
        string? before = null;
        while (true)
        {
            var pageSize = query.Tail is { } wanted ? Math.Clamp((wanted - found.Count) * 2, 64, 1000) : 1000;
            var page = await Store.RangeAsync(Keys.Events, new RangeOptions
            {
                Revision = revision,
                Limit = pageSize,
                After = after,
                Before = before,
                Descending = query.Tail is not null,
            }, cancellationToken).ConfigureAwait(false);
            revision = page.Revision;
            foreach (var kv in page.Kvs)
            {
                var item = DecodeEvent(kv);
                if (item.Revision > query.AfterRevision && query.Filter.Matches(item) && (query.Since is null || item.Time >= query.Since))
                {
                    found.Add(item);
                }
            }
            if (!page.More || page.Kvs.Count == 0 || (query.Tail is { } tail && found.Count >= tail))
            {
                break;
            }
            if (query.Tail is not null)
            {
                before = page.Kvs[^1].Key;
            }
            else
            {
                after = page.Kvs[^1].Key;
            }
        }
        IEnumerable<ClusterEvent> selected = found;
        if (query.Tail is { } last)
        {
            selected = found.Take(last);
        }
        var ordered = selected.OrderBy(e => e.Revision).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        if (ordered.Count > query.Limit)
        {
            var cut = query.Limit;
            while (cut < ordered.Count && ordered[cut].Revision == ordered[cut - 1].Revision)
            {
                cut++;
            }
            if (cut < ordered.Count)
            {
                ordered.RemoveRange(cut, ordered.Count - cut);
                return new EventPage(ordered[^1].Revision, ordered);
            }
        }
        return new EventPage(ordered.Count > 0 ? ordered[^1].Revision : Math.Max(query.AfterRevision, revision), ordered);
    }

    /// <summary>The event stored at <paramref name="kv"/>, with its revision and id.</summary>
    public static ClusterEvent DecodeEvent(KeyValue kv) =>
        JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.ClusterEvent)! with { Revision = kv.ModRevision, Id = kv.Key[Keys.Events.Length..] };

    private static string? SubjectName(string subject, string prefix) =>
        subject.StartsWith(prefix, StringComparison.Ordinal) && subject.Length > prefix.Length ? subject[prefix.Length..] : null;

    public static TxnOp.Put PutOp<T>(string key, T value, JsonTypeInfo<T> type) => new(key, JsonSerializer.SerializeToUtf8Bytes(value, type));

    public static TxnOp.Put PutService(ServiceSpec service) => PutOp(Keys.Service(service.Name), service, CoreJson.Default.ServiceSpec);

    public static TxnOp.Put PutReplica(Replica replica) => PutOp(Keys.Replica(replica.Id), replica, CoreJson.Default.Replica);

    public static TxnOp.Put PutNode(Node node) => PutOp(Keys.Node(node.Name), node, CoreJson.Default.Node);

    private async Task<Versioned<T>?> GetAsync<T>(string key, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        var kv = await Store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        return kv is null ? null : new Versioned<T>(JsonSerializer.Deserialize(kv.Value.Span, type)!, kv.ModRevision);
    }

    private async Task<IReadOnlyDictionary<string, Versioned<T>>> ReadPrefixAsync<T>(
        string prefix, long revision, JsonTypeInfo<T> type, Func<T, string> keyOf, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, Versioned<T>>(StringComparer.Ordinal);
        string? after = null;
        while (true)
        {
            var page = await Store.RangeAsync(prefix, new RangeOptions { Revision = revision, Limit = ReadPageSize, After = after }, cancellationToken).ConfigureAwait(false);
            foreach (var kv in page.Kvs)
            {
                var value = JsonSerializer.Deserialize(kv.Value.Span, type)!;
                result[keyOf(value)] = new Versioned<T>(value, kv.ModRevision);
            }
            if (!page.More || page.Kvs.Count == 0)
            {
                return result;
            }
            after = page.Kvs[^1].Key;
        }
    }
}
