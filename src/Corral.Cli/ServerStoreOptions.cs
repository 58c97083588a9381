using System.CommandLine;
using Corral.Core;
using Corral.Server;

namespace Corral.Cli;

/// <summary>
/// The store and HA timing flags shared by <c>corral server init</c>, <c>corral server run</c> and (timing only)
/// <c>corral server join</c>.
/// </summary>
/// <param name="includeStore">False leaves out <c>--store</c> and the <c>--etcd-*</c> connection flags (a joining server runs its own managed member).</param>
internal sealed class ServerStoreOptions(bool includeStore = true)
{
    private readonly Option<string?> _store = new("--store") { Description = "The store: 'sqlite' (embedded, one server) or etcd://HOST:PORT[,HOST:PORT...] (several servers)." };
    private readonly Option<string?> _etcdCa = new("--etcd-ca") { Description = "PEM CA file for etcd's TLS (makes the etcd endpoints https)." };
    private readonly Option<string?> _etcdCert = new("--etcd-cert") { Description = "PEM client certificate for etcd mutual TLS." };
    private readonly Option<string?> _etcdKey = new("--etcd-key") { Description = "PEM private key of --etcd-cert." };
    private readonly Option<string?> _etcdUser = new("--etcd-user") { Description = "etcd user (etcd auth)." };
    private readonly Option<string?> _etcdPasswordFile = new("--etcd-password-file") { Description = "File whose first line is --etcd-user's password." };
    private readonly Option<string?> _timing = new("--timing") { Description = "Leadership timing profile: 'default' (lease 2s, renew 300ms, margin 500ms, etcd 50ms/500ms) or 'fast' (lease 1s, renew 150ms, margin 250ms, etcd 25ms/250ms; for a quiet LAN)." };
    private readonly Option<string?> _leaseTtl = new("--lease-ttl") { Description = "Leadership lease TTL, whole seconds (default 2s)." };
    private readonly Option<string?> _renew = new("--renew-interval") { Description = "How often the leader renews its lease (default 300ms; at most a third of the TTL)." };
    private readonly Option<string?> _margin = new("--step-down-margin") { Description = "How long before the lease could expire an unrenewed leader steps down (default 500ms, at least 200ms)." };
    private readonly Option<string?> _etcdHeartbeat = new("--etcd-heartbeat") { Description = "Managed etcd member's heartbeat interval (default 50ms)." };
    private readonly Option<string?> _etcdElection = new("--etcd-election-timeout") { Description = "Managed etcd member's election timeout (default 500ms; at least 5 heartbeats; lease TTL - margin - renew must exceed twice it)." };

    public void AddTo(Command command)
    {
        Option[] store = includeStore ? [_store, _etcdCa, _etcdCert, _etcdKey, _etcdUser, _etcdPasswordFile] : [];
        foreach (var option in store.Concat([_timing, _leaseTtl, _renew, _margin, _etcdHeartbeat, _etcdElection]))
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The store given on the command line (null when --store is absent); throws <see cref="ArgumentException"/> naming the flag.</summary>
    public StoreConfig? Store(ParseResult parse)
    {
        if (!includeStore)
        {
            return null;
        }
        var text = parse.GetValue(_store);
        var etcdFlags = new[] { _etcdCa, _etcdCert, _etcdKey, _etcdUser, _etcdPasswordFile }.Where(o => parse.GetValue(o) is not null).Select(o => o.Name).ToList();
        if (text is null)
        {
            return etcdFlags.Count == 0 ? null : throw new ArgumentException($"{string.Join(", ", etcdFlags)} need --store etcd://HOST:PORT[,...]");
        }
        var store = StoreConfig.Parse(text, tls: parse.GetValue(_etcdCa) is not null || parse.GetValue(_etcdCert) is not null);
        if (store.Kind != "etcd")
        {
            return etcdFlags.Count == 0 ? store : throw new ArgumentException($"{string.Join(", ", etcdFlags)} apply to an etcd store only");
        }
        store = store with
        {
            EtcdCaFile = FullPath(parse.GetValue(_etcdCa)),
            EtcdCertFile = FullPath(parse.GetValue(_etcdCert)),
            EtcdKeyFile = FullPath(parse.GetValue(_etcdKey)),
            EtcdUser = parse.GetValue(_etcdUser),
            EtcdPasswordFile = FullPath(parse.GetValue(_etcdPasswordFile)),
        };
        store.ToEtcdOptions();
        return store;
    }

    /// <summary>The timing given on the command line (null when no timing flag is given); throws <see cref="ArgumentException"/> with every reason.</summary>
    public HaTiming? Timing(ParseResult parse)
    {
        var flags = new[] { _leaseTtl, _renew, _margin, _etcdHeartbeat, _etcdElection };
        var profile = parse.GetValue(_timing);
        if (profile is null && flags.All(f => parse.GetValue(f) is null))
        {
            return null;
        }
        var timing = profile switch
        {
            null or "default" => HaTiming.Default,
            "fast" => HaTiming.Fast,
            _ => throw new ArgumentException($"--timing '{profile}': expected 'default' or 'fast'"),
        };
        timing = timing with
        {
            LeaseTtl = Duration(parse, _leaseTtl) ?? timing.LeaseTtl,
            RenewInterval = Duration(parse, _renew) ?? timing.RenewInterval,
            StepDownMargin = Duration(parse, _margin) ?? timing.StepDownMargin,
            EtcdHeartbeat = Duration(parse, _etcdHeartbeat) ?? timing.EtcdHeartbeat,
            EtcdElectionTimeout = Duration(parse, _etcdElection) ?? timing.EtcdElectionTimeout,
        };
        var errors = timing.Validate();
        return errors.Count == 0 ? timing : throw new ArgumentException("unsafe timing refused: " + string.Join("; ", errors));
    }

    private static TimeSpan? Duration(ParseResult parse, Option<string?> option)
    {
        var text = parse.GetValue(option);
        if (text is null)
        {
            return null;
        }
        return Durations.TryParse(text, out var value, out var error) ? value : throw new ArgumentException($"{option.Name} '{text}': {error}");
    }

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);
}
