using System.Net;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store.Sqlite;
using Microsoft.Extensions.Logging;

namespace Corral.Server;

/// <summary>What <c>corral server init</c> needs.</summary>
/// <param name="DataDir">Where the server keeps everything.</param>
/// <param name="Name">This server's name.</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="AdvertiseAddresses">Addresses the server certificate covers besides 127.0.0.1 and localhost.</param>
/// <param name="Port">The HTTPS port written into the admin's client config.</param>
public sealed record ServerInitOptions(string DataDir, string Name, string Cluster, IReadOnlyList<IPAddress> AdvertiseAddresses, int Port);

/// <summary>The result of init: where things are and the first admin key (shown once).</summary>
public sealed record ServerInitResult(ServerPaths Paths, string AdminToken, string CaPin);

/// <summary>Creates a server's data directory: cluster CA, server certificate, store, first admin API key.</summary>
public static class ServerInitializer
{
    /// <value>Validity of server certificates issued at init. 1 year.</value>
    public static readonly TimeSpan ServerCertificateValidity = TimeSpan.FromDays(365);

    /// <summary>Initializes <see cref="ServerInitOptions.DataDir"/>; refuses a directory that is already initialized.</summary>
    public static async Task<ServerInitResult> InitAsync(ServerInitOptions options, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var paths = new ServerPaths(Path.GetFullPath(options.DataDir));
        if (paths.IsInitialized)
        {
            throw new InvalidOperationException($"{paths.DataDir} is already initialized (found {paths.ServerConfig}); use 'corral server run --data-dir {paths.DataDir}'");
        }
        Directory.CreateDirectory(Path.Combine(paths.DataDir, "tls"));
        Directory.CreateDirectory(paths.StoreDir);
        File.SetUnixFileMode(paths.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var ca = CertificateAuthority.Create(options.Cluster, time);
        ca.Save(paths.CaCertificate, paths.CaKey);
        IssueServerCertificate(ca, paths, options.Name, options.AdvertiseAddresses);

        await using var store = SqliteStore.Open(new SqliteStoreOptions { DataDirectory = paths.StoreDir }, time, loggers.CreateLogger<SqliteStore>());
        var state = new ClusterState(store, time);
        var keys = new ApiKeyStore(store, state, time);
        var (_, admin) = await keys.CreateAsync("admin", Role.Admin, "server-init", cancellationToken).ConfigureAwait(false);
        await state.AppendEventAsync("cluster.initialized", $"cluster/{options.Cluster}", $"cluster '{options.Cluster}' initialized by server '{options.Name}'", "server-init", cancellationToken).ConfigureAwait(false);

        var client = new ClientConfig([$"https://127.0.0.1:{options.Port}"], ca.Certificate.ExportCertificatePem(), admin.ToString());
        CertificateAuthority.WritePrivate(paths.AdminClientConfig, JsonSerializer.Serialize(client, CoreJson.Default.ClientConfig));
        // server.json last: its presence marks a complete init.
        File.WriteAllText(paths.ServerConfig, JsonSerializer.Serialize(new ServerConfig(options.Name, options.Cluster, "sqlite", []), ServerJson.Default.ServerConfig));
        return new ServerInitResult(paths, admin.ToString(), ca.Pin);
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
