using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core.Api;

// Wire records of the REST API under /v1 (JSON, snake_case; see docs/api.md). Shared by the server, the .NET client
// and the CLI. Errors are RFC 7807 problem details (ProblemDetails) with an optional "errors" list of FieldError.

/// <summary>One located problem in a request (a stack file line, a JSON field).</summary>
public sealed record FieldError(string Field, string Message, string? File = null, int? Line = null, int? Column = null);

/// <summary>A service with its observed state.</summary>
public sealed record ServiceView(
    ServiceSpec Spec,
    string Version,
    int Desired,
    int Running,
    int Healthy,
    int Pending,
    IReadOnlyList<ReplicaView> Replicas);

/// <summary>A replica with what its node last reported.</summary>
public sealed record ReplicaView(
    Replica Replica,
    int? Pid,
    IReadOnlyDictionary<string, int>? Ports,
    DateTimeOffset? StateSince,
    double? CpuPercent,
    long? RssBytes);

/// <summary>A node with its liveness and last stats.</summary>
public sealed record NodeView(
    Node Node,
    DateTimeOffset? LastHeartbeat,
    int Replicas,
    double? CpuPercent,
    long? MemoryUsedBytes,
    double? Load1,
    long? DiskUsedBytes = null,
    long? DiskTotalBytes = null);

/// <summary>What a deploy or diff changes for one service.</summary>
public sealed record ServiceChange(string Service, ServiceChangeKind Kind, string Detail);

/// <summary>The kind of change a deploy makes to a service.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<ServiceChangeKind>))]
public enum ServiceChangeKind
{
    Unchanged,
    Create,
    Update,
    Scale,
    Remove,
    KeptNotInFile,
}

/// <summary>POST /v1/stacks/deploy and /v1/stacks/diff: the stack file's text and name (for error locations).</summary>
public sealed record DeployRequest(string Yaml, string File = "", bool Prune = false);

/// <summary>The outcome of a deploy or diff.</summary>
/// <param name="Stack">The stack's name.</param>
/// <param name="Changes">One entry per service in the file, plus services of the stack not in the file.</param>
/// <param name="Changed">False when the deploy changed nothing (same file twice).</param>
/// <param name="Revision">The store revision after the deploy (for following its progress).</param>
public sealed record DeployResult(string Stack, IReadOnlyList<ServiceChange> Changes, bool Changed, long Revision);

/// <summary>PUT /v1/services/{name}/scale.</summary>
public sealed record ScaleRequest(int Replicas);

/// <summary>
/// PUT /v1/nodes/{name}/labels: the node's complete set of operator labels (replaces the previous set). Labels the
/// agent reports are kept; an operator label wins over an agent label of the same name.
/// </summary>
public sealed record NodeLabelsRequest(IReadOnlyDictionary<string, string> Labels);

/// <summary>An event in the cluster's append-only log.</summary>
/// <param name="Revision">Store revision of the event: the index for blocking queries.</param>
/// <param name="Time">When it happened (server clock).</param>
/// <param name="Kind">A dotted kind such as <c>service.deployed</c>, <c>replica.failed</c>, <c>node.down</c>.</param>
/// <param name="Subject">What it is about (<c>service/web</c>, <c>node/a</c>, <c>replica/web-1f2e</c>).</param>
/// <param name="Message">What happened, for people.</param>
/// <param name="Actor">Who did it: <c>key:NAME</c> for API mutations, <c>leader:SERVER</c>, <c>node:NAME</c>.</param>
/// <remarks>
/// Several events may share one <see cref="Revision"/> (one transaction scaling a service by several replicas writes an
/// event per replica): <see cref="Id"/>, not the revision, tells them apart.
/// </remarks>
public sealed record ClusterEvent(long Revision, DateTimeOffset Time, string Kind, string Subject, string Message, string Actor)
{
    /// <value>
    /// The event's unique, stable id: its store key below <c>/corral/events/</c>, i.e. the time in Unix milliseconds
    /// (15 digits) and a random suffix, such as <c>001767225600000-3f2a…</c>. Ids sort by the writing server's clock.
    /// </value>
    public string Id { get; init; } = "";

    /// <value>The service the event is about (a service's own events and its replicas' events); null for none.</value>
    public string? Service { get; init; }

    /// <value>The node the event is about (a node's own events and events of replicas placed on it); null for none.</value>
    public string? Node { get; init; }
}

/// <summary>GET /v1/events?index=N&amp;wait=30s: events after index N; returns at once when there are any.</summary>
public sealed record EventPage(long Index, IReadOnlyList<ClusterEvent> Events);

/// <summary>POST /v1/apikeys.</summary>
public sealed record ApiKeyCreateRequest(string Name, string Role);

/// <summary>An API key without its secret.</summary>
public sealed record ApiKeyView(string Id, string Name, string Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt);

/// <summary>The answer to POST /v1/apikeys: the only time the key's text is shown.</summary>
public sealed record ApiKeyCreated(ApiKeyView Key, string Token);

/// <summary>POST /v1/tokens: a join token for new nodes.</summary>
/// <param name="Ttl">How long the token is valid, as a duration (<c>1h</c>); default 1h.</param>
/// <param name="Uses">How many nodes may join with it; default 1.</param>
/// <param name="Role">What the joining node becomes: <c>agent</c> (the default and only role so far).</param>
public sealed record JoinTokenCreateRequest(string? Ttl, int? Uses, string? Role);

/// <summary>A join token without its secret.</summary>
public sealed record JoinTokenView(string Id, string Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset ExpiresAt, int Uses, int UsesLeft, DateTimeOffset? RevokedAt);

/// <summary>The answer to POST /v1/tokens: the only time the token's text is shown.</summary>
public sealed record JoinTokenCreated(JoinTokenView Info, string Token);

/// <summary>POST /v1/join: a node presents a join token and a CSR (PEM) for its own key.</summary>
public sealed record JoinRequest(string Token, string Node, string CsrPem, IReadOnlyDictionary<string, string>? Labels);

/// <summary>The answer to POST /v1/join: the node's client certificate and the cluster CA, both PEM.</summary>
public sealed record JoinResponse(string CertificatePem, string CaPem);

/// <summary>GET /v1/status. <c>health</c> is null until the leader's monitor has run once; <c>alarms</c> counts active alarms.</summary>
public sealed record ClusterStatus(
    string Version,
    string StoreKind,
    bool StoreHealthy,
    string? Leader,
    long Revision,
    IReadOnlyList<NodeView> Nodes,
    IReadOnlyList<ServiceSummary> Services,
    HealthReport? Health = null,
    AlarmCounts? Alarms = null)
{
    /// <summary>The store's members (etcd: every member; SQLite: the file).</summary>
    public IReadOnlyList<StoreMemberView> StoreMembers { get; init; } = [];

    /// <summary>Members needed for a majority (3 → 2, 5 → 3).</summary>
    public int StoreMajority { get; init; }

    /// <summary>Members that may fail without losing the majority (3 → 1, 5 → 2).</summary>
    public int StoreFaultTolerance { get; init; }
}

/// <summary>One line of the service summary.</summary>
public sealed record ServiceSummary(string Name, string Version, int Desired, int Running, int Healthy);

// Agent protocol, under /v1/agent/ (mTLS in the multi-node issue; the node's identity is its certificate).

/// <summary>POST /v1/agent/register.</summary>
/// <param name="PortCapacity">
/// How many ports the agent's port range (<c>corral agent --ports FIRST-LAST</c>) holds: the node's
/// <see cref="Cluster.Node.PortCapacity"/>. Null from an agent that predates the field: the node keeps the default.
/// </param>
public sealed record AgentRegistration(string Node, IReadOnlyList<string> Addresses, double CpuCores, long MemoryBytes, IReadOnlyDictionary<string, string> Labels, int? PortCapacity = null);

/// <summary>What a node should run: GET /v1/agent/assignments?node=N&amp;index=I&amp;wait=30s.</summary>
/// <param name="Index">The store revision the set was read at: pass it to the next query.</param>
/// <param name="Assignments">The replicas the node must run.</param>
/// <param name="NodeReady">
/// Whether the node's own record was <c>ready</c> at that same revision (null from a server that predates the field).
/// An agent starts a singleton that is not running only from a set whose node was ready: the leader evicts a
/// singleton only under a transaction that compares the node's record while it is <c>down</c>, so a set read after the
/// node was marked up again cannot hold a singleton that is replaced meanwhile.
/// </param>
public sealed record AssignmentSet(long Index, IReadOnlyList<Assignment> Assignments, bool? NodeReady = null);

/// <summary>
/// The answer to POST /v1/agent/heartbeat. A heartbeat answered this way is on record: the server has put the node's
/// liveness key into the store (<c>/corral/liveness/NODE/SERVER</c>, on a lease it keeps alive), so the leader cannot
/// mark the node down before the key is gone.
/// </summary>
/// <param name="NodeReady">
/// Whether the node's record was <c>ready</c> at a revision at or after that key was put. Only a heartbeat answered
/// with true counts as contact for the agent's singleton fence: while the node is <c>down</c> in the store, the leader
/// may still evict its replicas.
/// </param>
/// <param name="Revision">The store revision <paramref name="NodeReady"/> was read at.</param>
public sealed record HeartbeatAck(bool NodeReady, long Revision);

/// <summary>One replica the node must run (or stop, when absent from the set).</summary>
public sealed record Assignment(string ReplicaId, string Service, string Version, TaskSpec Task, bool Singleton, TimeSpan FenceAfter);

/// <summary>A replica's state as the node sees it, in heartbeats and status posts. <c>restarts</c>: restarts its restart policy granted since the agent started running it.</summary>
public sealed record ReplicaReport(
    string ReplicaId,
    ReplicaState State,
    DateTimeOffset Since,
    string Reason,
    int? Pid,
    int? ExitCode,
    IReadOnlyDictionary<string, int>? Ports,
    double? CpuPercent,
    long? RssBytes,
    int? Restarts = null);

/// <summary>
/// POST /v1/agent/heartbeat: liveness, node stats and a report for every replica the node runs now (the whole runtime,
/// every time): a replica the server told to stop that is missing from its node's heartbeat counts as stopped.
/// </summary>
/// <param name="DiskUsedBytes">Used bytes of the file system holding the agent's data dir (for the disk alarm).</param>
/// <param name="DiskTotalBytes">What users can fill of that file system: used plus available, as <c>df</c> counts (its Use% is used / this).</param>
public sealed record AgentHeartbeat(string Node, IReadOnlyList<ReplicaReport> Replicas, double? CpuPercent, long? MemoryUsedBytes, double? Load1, long? DiskUsedBytes = null, long? DiskTotalBytes = null);
