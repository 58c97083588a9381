using System.Net;
using System.Text.Json;
using Corral.Core.Api;
using Corral.Server.Security;

namespace Corral.Server;

/// <summary>
/// Writes the data directory of a server that joined a managed-etcd cluster (<c>corral server join</c>): the cluster's
/// CAs, its own server and etcd member certificates, and a server.json whose etcd member starts as
/// <c>existing</c> with the initial cluster the join answered, and its own member first among the etcd endpoints.
/// </summary>
public static class ServerJoiner
{
    /// <summary>
    /// Writes <paramref name="dataDir"/> for server <paramref name="name"/> from <paramref name="joined"/>; refuses a
    /// directory that is already initialized.
    /// </summary>
    public static ServerPaths WriteDataDir(string dataDir, string name, ManagedEtcdConfig member, IReadOnlyList<IPAddress> advertise, ServerJoinResponse joined, HaTiming? timing, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(joined);
        var paths = new ServerPaths(Path.GetFullPath(dataDir));
        if (paths.IsInitialized)
        {
            throw new InvalidOperationException($"{paths.DataDir} is already initialized (found {paths.ServerConfig})");
        }
        Directory.CreateDirectory(Path.Combine(paths.DataDir, "tls"));
        File.SetUnixFileMode(paths.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using (var ca = CertificateAuthority.FromPem(joined.CaCertificatePem, joined.CaKeyPem, time))
        {
            ca.Save(paths.CaCertificate, paths.CaKey);
            ServerInitializer.IssueServerCertificate(ca, paths, name, advertise);
        }
        using (var etcdCa = CertificateAuthority.FromPem(joined.EtcdCaCertificatePem, joined.EtcdCaKeyPem, time))
        {
            etcdCa.Save(paths.EtcdCaCertificate, paths.EtcdCaKey);
            ServerInitializer.IssueEtcdCertificate(etcdCa, paths, name, member.Address);
        }
        var managed = member with { InitialCluster = joined.InitialCluster, InitialClusterState = "existing" };
        var config = new ServerConfig(name, joined.Cluster, "sqlite", []).WithStore(ServerInitializer.ManagedStore(paths, [member.ClientUrl, .. joined.EtcdEndpoints.Where(e => !string.Equals(e, member.ClientUrl, StringComparison.OrdinalIgnoreCase))])) with
        {
            ManagedEtcd = managed,
            Timing = timing,
        };
        File.WriteAllText(paths.ServerConfig, JsonSerializer.Serialize(config, ServerJson.Default.ServerConfig));
        return paths;
    }
}
