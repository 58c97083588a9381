namespace Corral.Server;

/// <summary>Where a server keeps its files inside its data directory.</summary>
public sealed record ServerPaths(string DataDir)
{
    public string CaCertificate => Path.Combine(DataDir, "tls", "ca.crt");

    public string CaKey => Path.Combine(DataDir, "tls", "ca.key");

    public string ServerCertificate => Path.Combine(DataDir, "tls", "server.crt");

    public string ServerKey => Path.Combine(DataDir, "tls", "server.key");

    public string StoreDir => Path.Combine(DataDir, "store");

    /// <summary>The CA of the managed etcd members (servers only: agents never get it).</summary>
    public string EtcdCaCertificate => Path.Combine(DataDir, "tls", "etcd-ca.crt");

    public string EtcdCaKey => Path.Combine(DataDir, "tls", "etcd-ca.key");

    /// <summary>This server's etcd member certificate, also its client certificate towards etcd.</summary>
    public string EtcdCertificate => Path.Combine(DataDir, "tls", "etcd.crt");

    public string EtcdKey => Path.Combine(DataDir, "tls", "etcd.key");

    /// <summary>The managed etcd member's data directory (its log and PID file sit beside it).</summary>
    public string EtcdDataDir => Path.Combine(DataDir, "etcd", "member");

    /// <summary>The server's identity and settings chosen at init (JSON).</summary>
    public string ServerConfig => Path.Combine(DataDir, "server.json");

    /// <summary>A client config for the first admin (address, CA, key), mode 0600.</summary>
    public string AdminClientConfig => Path.Combine(DataDir, "admin.json");

    public bool IsInitialized => File.Exists(ServerConfig);
}
