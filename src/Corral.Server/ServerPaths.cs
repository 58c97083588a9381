namespace Corral.Server;

/// <summary>Where a server keeps its files inside its data directory.</summary>
public sealed record ServerPaths(string DataDir)
{
    public string CaCertificate => Path.Combine(DataDir, "tls", "ca.crt");

    public string CaKey => Path.Combine(DataDir, "tls", "ca.key");

    public string ServerCertificate => Path.Combine(DataDir, "tls", "server.crt");

    public string ServerKey => Path.Combine(DataDir, "tls", "server.key");

    public string StoreDir => Path.Combine(DataDir, "store");

    /// <summary>The server's identity and settings chosen at init (JSON).</summary>
    public string ServerConfig => Path.Combine(DataDir, "server.json");

    /// <summary>A client config for the first admin (address, CA, key), mode 0600.</summary>
    public string AdminClientConfig => Path.Combine(DataDir, "admin.json");

    public bool IsInitialized => File.Exists(ServerConfig);
}
