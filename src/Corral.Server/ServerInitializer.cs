using System.Net;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store.Etcd;
using Microsoft.Extensions.Logging;

namespace Corral.Server;

/// <summary>What <c>corral server init</c> needs.</summary>
/// <param name="DataDir">Where the server keeps everything.</param>
/// <param name="Name">This server's name.</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="AdvertiseAddresses">Addresses the server certificate covers besides 127.0.0.1 and localhost.</param>
/// <param name="Port">The HTTPS port written into the admin's client config and into server.json, where <c>server run</c> finds it.</param>
public sealed record ServerInitOptions(string DataDir, string Name, string Cluster, IReadOnlyList<IPAddress> AdvertiseAddresses, int Port)
{
    /// <value>The store; default the embedded SQLite store. With etcd, every server of the cluster is initialized against the same etcd.</value>
    public StoreConfig Store { get; init; } = StoreConfig.Sqlite;

    /// <value>Leadership and managed-etcd timing recorded in server.json; null means the defaults.</value>
    public HaTiming? Timing { get; init; }

    /// <value>
    /// Start a managed etcd member (<c>--ha</c>) at this address and these ports and store in it; the initial cluster
    /// is this member alone (more servers join with <c>corral server join</c>). Overrides <see cref="Store"/>. Default null.
    /// </value>
    public ManagedEtcdConfig? ManagedEtcd { get; init; }
}

/// <summary>The result of init: where things are and the first admin key (shown once).</summary>
/// <param name="Paths">The data directory's layout.</param>
/// <param name="AdminToken">The first admin API key; null when this server joined a cluster that already had one (on etcd).</param>
/// <param name="CaPin">The cluster CA's pin.</param>
public sealed record ServerInitResult(ServerPaths Paths, string? AdminToken, string CaPin)
{
    /// <summary>True when the store already held a cluster (another server initialized it): this server joined it.</summary>
    public bool Joined => AdminToken is null;
}

/// <summary>Creates a server's data directory: cluster CA, server certificate, store, first admin API key.</summary>
public static class ServerInitializer
{
    /// <value>Validity of server certificates issued at init. 1 year.</value>
    public static readonly TimeSpan ServerCertificateValidity = TimeSpan.FromDays(365);

    /// <summary>
    /// Initializes <see cref="ServerInitOptions.DataDir"/>; refuses a directory that is already initialized. A failed
    /// init (e.g. the store holds another cluster, or does not answer) removes the directory again when it created it.
    /// </summary>
    public static async Task<ServerInitResult> InitAsync(ServerInitOptions options, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var paths = new ServerPaths(Path.GetFullPath(options.DataDir));
        if (paths.IsInitialized)
        {
            throw new InvalidOperationException($"{paths.DataDir} is already initialized (found {paths.ServerConfig}); use 'corral server run --data-dir {paths.DataDir}'");
        }
        options.Timing?.ThrowIfInvalid();
        var fresh = !Directory.Exists(paths.DataDir) || !Directory.EnumerateFileSystemEntries(paths.DataDir).Any();
        try
        {
            return await InitDataDirAsync(options, paths, time, loggers, cancellationToken).ConfigureAwait(false);
        }
        catch when (fresh && !paths.IsInitialized)
        {
            try
            {
                Directory.Delete(paths.DataDir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: what is left is not an initialized directory and a later init may reuse it.
            }
            throw;
        }
    }

    private static async Task<ServerInitResult> InitDataDirAsync(ServerInitOptions options, ServerPaths paths, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(paths.DataDir, "tls"));
        Directory.CreateDirectory(paths.StoreDir);
        File.SetUnixFileMode(paths.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var storeConfig = options.Store;
        ManagedEtcdMember? member = null;
        var managed = options.ManagedEtcd;
        if (managed is not null)
        {
            using var etcdCa = CertificateAuthority.Create(options.Cluster + "-etcd", time);
            etcdCa.Save(paths.EtcdCaCertificate, paths.EtcdCaKey);
            IssueEtcdCertificate(etcdCa, paths, options.Name, managed.Address);
            managed = managed with { InitialCluster = $"{options.Name}={managed.PeerUrl}", InitialClusterState = "new" };
            storeConfig = ManagedStore(paths, [managed.ClientUrl]);
            member = new ManagedEtcdMember(managed.ToOptions(options.Name, paths, options.Timing ?? HaTiming.Default), loggers.CreateLogger("Corral.ManagedEtcd"));
            member.Start();
        }
        try
        {
            return await InitStoreAsync(options with { Store = storeConfig, ManagedEtcd = managed }, paths, time, loggers, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (member is not null)
            {
                await member.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The store settings of a server whose etcd is managed: its members' client URLs with the etcd CA and its member certificate.</summary>
    public static StoreConfig ManagedStore(ServerPaths paths, IReadOnlyList<string> endpoints) => new()
    {
        Kind = "etcd",
        EtcdEndpoints = endpoints,
        EtcdCaFile = paths.EtcdCaCertificate,
        EtcdCertFile = paths.EtcdCertificate,
        EtcdKeyFile = paths.EtcdKey,
    };

    /// <summary>Issues this server's etcd member certificate (server and client auth) from the etcd CA.</summary>
    public static void IssueEtcdCertificate(CertificateAuthority etcdCa, ServerPaths paths, string name, string address)
    {
        var ips = new[] { IPAddress.Loopback, IPAddress.Parse(address) }.Distinct();
        using var certificate = etcdCa.IssueServerCertificate(name, ["localhost", name], ips, ServerCertificateValidity);
        File.WriteAllText(paths.EtcdCertificate, certificate.ExportCertificatePem());
        using var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(certificate)!;
        CertificateAuthority.WritePrivate(paths.EtcdKey, key.ExportPkcs8PrivateKeyPem());
    }

    private static async Task<ServerInitResult> InitStoreAsync(ServerInitOptions options, ServerPaths paths, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        await using var store = options.Store.Open(paths, time, loggers);
        if (options.ManagedEtcd is not null)
        {
            await WaitForStoreAsync(store, time, cancellationToken).ConfigureAwait(false);
        }
        var state = new ClusterState(store, time);
        using var candidate = CertificateAuthority.Create(options.Cluster, time);
        var (ca, first) = await ClaimAuthorityAsync(store, candidate, options, paths, time, cancellationToken).ConfigureAwait(false);
        using (ca)
        {
            ca.Save(paths.CaCertificate, paths.CaKey);
            IssueServerCertificate(ca, paths, options.Name, options.AdvertiseAddresses);

            string? adminToken = null;
            if (first)
            {
                var keys = new ApiKeyStore(store, state, time);
                var (_, admin) = await keys.CreateAsync("admin", Role.Admin, "server-init", cancellationToken).ConfigureAwait(false);
                adminToken = admin.ToString();
                await state.AppendEventAsync("cluster.initialized", $"cluster/{options.Cluster}", $"cluster '{options.Cluster}' initialized by server '{options.Name}'", "server-init", cancellationToken).ConfigureAwait(false);
                var client = new ClientConfig([AdminAddress(options.AdvertiseAddresses, options.Port)], ca.Certificate.ExportCertificatePem(), adminToken);
                CertificateAuthority.WritePrivate(paths.AdminClientConfig, JsonSerializer.Serialize(client, CoreJson.Default.ClientConfig));
            }
            else
            {
                await state.AppendEventAsync("server.joined", $"server/{options.Name}", $"server '{options.Name}' joined cluster '{options.Cluster}'", "server-init", cancellationToken).ConfigureAwait(false);
            }
            // server.json last: its presence marks a complete init.
            var config = new ServerConfig(options.Name, options.Cluster, "sqlite", []).WithStore(options.Store) with { Timing = options.Timing, ManagedEtcd = options.ManagedEtcd, Port = options.Port };
            File.WriteAllText(paths.ServerConfig, JsonSerializer.Serialize(config, ServerJson.Default.ServerConfig));
            return new ServerInitResult(paths, adminToken, ca.Pin);
        }
    }

    /// <summary>
    /// The address admin.json names: the first advertised address, which the operator gave because clients reach the
    /// server there (a server run with <c>--listen</c> on that address does not answer on 127.0.0.1); 127.0.0.1 when
    /// none is advertised.
    /// </summary>
    internal static string AdminAddress(IReadOnlyList<IPAddress> advertised, int port)
    {
        var address = advertised.Count > 0 ? advertised[0] : IPAddress.Loopback;
        var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return $"https://{host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// Puts <paramref name="candidate"/> as the cluster's CA into a shared store unless one is there; returns the CA in
    /// force and whether it is ours (this server is the cluster's first). The embedded SQLite store is never shared.
    /// </summary>
    private static async Task<(CertificateAuthority Ca, bool First)> ClaimAuthorityAsync(Corral.Store.IClusterStore store, CertificateAuthority candidate, ServerInitOptions options, ServerPaths paths, TimeProvider time, CancellationToken cancellationToken)
    {
        var mine = new ClusterAuthority(options.Cluster, candidate.Certificate.ExportCertificatePem(), candidate.ExportKeyPem());
        if (options.ManagedEtcd is not null)
        {
            mine = mine with { EtcdCaCertificatePem = File.ReadAllText(paths.EtcdCaCertificate), EtcdCaKeyPem = File.ReadAllText(paths.EtcdCaKey) };
        }
        var result = await store.TxnAsync(
            Corral.Store.Txn.If(Corral.Store.Compare.Missing(Keys.Authority))
                .Then(new Corral.Store.TxnOp.Put(Keys.Authority, JsonSerializer.SerializeToUtf8Bytes(mine, ServerJson.Default.ClusterAuthority)))
                .Else(new Corral.Store.TxnOp.Get(Keys.Authority)),
            cancellationToken).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return (CertificateAuthority.FromPem(mine.CertificatePem, mine.KeyPem, time), true);
        }
        var kv = ((Corral.Store.TxnOpResult.Range)result.Results[0]).Result.Kvs[0];
        var theirs = JsonSerializer.Deserialize(kv.Value.Span, ServerJson.Default.ClusterAuthority)
            ?? throw new InvalidOperationException($"the store's {Keys.Authority} is empty");
        if (theirs.Cluster != options.Cluster)
        {
            throw new InvalidOperationException($"the store {options.Store} holds cluster '{theirs.Cluster}', not '{options.Cluster}'; pass --cluster {theirs.Cluster} to add this server to it, or use another store");
        }
        return (CertificateAuthority.FromPem(theirs.CertificatePem, theirs.KeyPem, time), false);
    }

    /// <summary>Waits (up to 60 s) until a just-started managed member answers.</summary>
    private static async Task WaitForStoreAsync(Corral.Store.IClusterStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await store.GetRevisionAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Corral.Store.StoreUnavailableException) when (time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>(Re)issues the server certificate for 127.0.0.1, ::1, localhost, the host name and the given addresses.</summary>
    public static void IssueServerCertificate(CertificateAuthority ca, ServerPaths paths, string name, IEnumerable<IPAddress> addresses)
    {
        var dns = new[] { "localhost", Environment.MachineName, name }.Distinct(StringComparer.OrdinalIgnoreCase);
        var ips = new[] { IPAddress.Loopback, IPAddress.IPv6Loopback }.Concat(addresses).Distinct();
        using var certificate = ca.IssueServerCertificate(name, dns, ips, ServerCertificateValidity);
        File.WriteAllText(paths.ServerCertificate, certificate.ExportCertificatePem());
        using var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(certificate)!;
        CertificateAuthority.WritePrivate(paths.ServerKey, key.ExportPkcs8PrivateKeyPem());
    }
}
