namespace Corral.Store.Etcd;

/// <summary>How <see cref="EtcdStore"/> reaches an etcd cluster. Validate with <see cref="Validate"/> (the store does it on construction).</summary>
public sealed record EtcdStoreOptions
{
    /// <value>
    /// Client URLs of the etcd members (<c>http://host:2379</c> or <c>https://host:2379</c>); list every member so the
    /// store can fail over. Required, at least one. All must use the same scheme.
    /// </value>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <value>PEM file of the CA certificate(s) that signed the members' server certificates (https only); null trusts the system store. Default null.</value>
    public string? CaFile { get; init; }

    /// <value>PEM client certificate presented to the members (mutual TLS, https only); set together with <see cref="ClientKeyFile"/>. Default null.</value>
    public string? ClientCertificateFile { get; init; }

    /// <value>PEM private key of <see cref="ClientCertificateFile"/>. Default null.</value>
    public string? ClientKeyFile { get; init; }

    /// <value>etcd user name when etcd auth is enabled; set together with <see cref="Password"/>. Default null (no auth).</value>
    public string? Username { get; init; }

    /// <value>Password of <see cref="Username"/>. Default null.</value>
    public string? Password { get; init; }

    /// <value>How long connecting to one member (TCP and TLS) may take. Default 3 s.</value>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <value>Deadline of one attempt of one request to one member (not of watches and keep-alive streams). Default 5 s.</value>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>
    /// How long one call keeps retrying (reads always; writes only when they certainly did not reach a member) across
    /// the endpoints before it throws <see cref="StoreUnavailableException"/>; also how long a watch or keep-alive keeps
    /// trying to re-establish its stream. Default 10 s.
    /// </value>
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <value>First back-off after every endpoint failed once; doubled per round up to <see cref="RetryBackoffMax"/>. Default 50 ms.</value>
    public TimeSpan RetryBackoffMin { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <value>Longest back-off between retry rounds. Default 1 s.</value>
    public TimeSpan RetryBackoffMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>
    /// Interval of HTTP/2 pings on open connections; a member that does not answer within the same interval is
    /// treated as failed (its watches and keep-alive streams fail over). A member that vanished without a reset is left
    /// within about two intervals: a candidate whose election watch sat on the cut leader's member saw the leader key
    /// go only that late (10 s with the earlier 5 s, in the lab). Default 1 s.
    /// </value>
    public TimeSpan KeepAlivePingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>
    /// Deadline of one attempt of a transaction that can apply at most once (<see cref="EtcdStore.AppliesAtMostOnce"/>):
    /// past it the transaction is sent again, on another member if this one failed, until
    /// <see cref="RetryTimeout"/>. A commit takes milliseconds; a proposal forwarded to a raft leader that vanished waits
    /// for etcd's whole request timeout, long after another leader was elected. Default 1.5 s.
    /// </value>
    public TimeSpan GuardedWriteTimeout { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <value>
    /// How long <see cref="EtcdStore.GetStatusAsync"/> waits for each member's answer (the member list, then every
    /// member's status, all in parallel). A member that does not answer within it is reported unhealthy ("no answer
    /// within …"), so one silent member (a frozen process, a host cut off without a reset) neither delays the status nor
    /// makes the members that do answer look lost. Default 1 s.
    /// </value>
    public TimeSpan StatusTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Every problem with these options, each naming its field; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Endpoints is null || Endpoints.Count == 0)
        {
            errors.Add("Endpoints: at least one etcd client URL is required");
        }
        else
        {
            string? scheme = null;
            for (var i = 0; i < Endpoints.Count; i++)
            {
                var endpoint = Endpoints[i];
                if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Query.Length > 0)
                {
                    errors.Add($"Endpoints[{i}]: '{endpoint}' is not an http:// or https:// URL of the form scheme://host:port");
                    continue;
                }
                scheme ??= uri.Scheme;
                if (scheme != uri.Scheme)
                {
                    errors.Add($"Endpoints[{i}]: '{endpoint}' mixes {uri.Scheme} with {scheme}; all endpoints must use the same scheme");
                }
            }
            if (Endpoints.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Endpoints.Count)
            {
                errors.Add("Endpoints: an endpoint is listed twice");
            }
            var tls = CaFile is not null || ClientCertificateFile is not null;
            if (tls && scheme == "http")
            {
                errors.Add("CaFile/ClientCertificateFile: TLS settings are given but the endpoints are http://; use https:// endpoints");
            }
        }
        CheckFile(CaFile, nameof(CaFile), errors);
        CheckFile(ClientCertificateFile, nameof(ClientCertificateFile), errors);
        CheckFile(ClientKeyFile, nameof(ClientKeyFile), errors);
        if ((ClientCertificateFile is null) != (ClientKeyFile is null))
        {
            errors.Add("ClientCertificateFile/ClientKeyFile: set both or neither");
        }
        if (Username is { Length: 0 })
        {
            errors.Add("Username: must not be empty when set");
        }
        if ((Username is null) != (Password is null))
        {
            errors.Add("Username/Password: set both or neither");
        }
        CheckPositive(DialTimeout, nameof(DialTimeout), errors);
        CheckPositive(RequestTimeout, nameof(RequestTimeout), errors);
        CheckPositive(RetryTimeout, nameof(RetryTimeout), errors);
        CheckPositive(RetryBackoffMin, nameof(RetryBackoffMin), errors);
        CheckPositive(KeepAlivePingInterval, nameof(KeepAlivePingInterval), errors);
        CheckPositive(StatusTimeout, nameof(StatusTimeout), errors);
        CheckPositive(GuardedWriteTimeout, nameof(GuardedWriteTimeout), errors);
        if (RetryBackoffMax < RetryBackoffMin)
        {
            errors.Add($"RetryBackoffMax: {RetryBackoffMax} is below RetryBackoffMin {RetryBackoffMin}");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem <see cref="Validate"/> finds.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid etcd store options:\n  " + string.Join("\n  ", errors));
        }
    }

    private static void CheckFile(string? path, string field, List<string> errors)
    {
        if (path is not null && !File.Exists(path))
        {
            errors.Add($"{field}: file '{path}' does not exist");
        }
    }

    private static void CheckPositive(TimeSpan value, string field, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{field}: must be positive; got {value}");
        }
    }
}
