using System.Text.Json.Serialization;

namespace Corral.Server;

/// <summary>What <c>corral server init</c> decided, kept in <c>server.json</c> and read by <c>corral server run</c>.</summary>
/// <param name="Name">The server's name (defaults to the host name).</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Store">Store kind: <c>sqlite</c> (embedded) or <c>etcd</c>.</param>
/// <param name="EtcdEndpoints">For <c>etcd</c>: the client URLs.</param>
public sealed record ServerConfig(string Name, string Cluster, string Store, IReadOnlyList<string> EtcdEndpoints)
{
    /// <value>See <see cref="StoreConfig.EtcdCaFile"/>.</value>
    public string? EtcdCaFile { get; init; }

    /// <value>See <see cref="StoreConfig.EtcdCertFile"/>.</value>
    public string? EtcdCertFile { get; init; }

    /// <value>See <see cref="StoreConfig.EtcdKeyFile"/>.</value>
    public string? EtcdKeyFile { get; init; }

    /// <value>See <see cref="StoreConfig.EtcdUser"/>.</value>
    public string? EtcdUser { get; init; }

    /// <value>See <see cref="StoreConfig.EtcdPasswordFile"/>.</value>
    public string? EtcdPasswordFile { get; init; }

    /// <value>The local etcd member this server supervises; null when the store is not managed by Corral.</value>
    public ManagedEtcdConfig? ManagedEtcd { get; init; }

    /// <value>Leadership and managed-etcd timing; null means the defaults.</value>
    public HaTiming? Timing { get; init; }

    /// <value>
    /// The HTTPS port given to <c>server init --port</c>, which its admin.json names: <c>server run</c> listens on it
    /// unless given <c>--port</c>. Null (a data dir from an earlier version) means <see cref="ServerRunOptions.DefaultPort"/>.
    /// </value>
    public int? Port { get; init; }

    /// <summary>The <c>server.json</c> of <paramref name="dataDir"/>, or null when it has none (not initialized yet).</summary>
    public static ServerConfig? Load(string dataDir)
    {
        var path = new ServerPaths(Path.GetFullPath(dataDir)).ServerConfig;
        return File.Exists(path) ? System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(path), ServerJson.Default.ServerConfig) : null;
    }

    /// <summary>The store settings recorded here.</summary>
    public StoreConfig ToStoreConfig() => new()
    {
        Kind = Store,
        EtcdEndpoints = EtcdEndpoints,
        EtcdCaFile = EtcdCaFile,
        EtcdCertFile = EtcdCertFile,
        EtcdKeyFile = EtcdKeyFile,
        EtcdUser = EtcdUser,
        EtcdPasswordFile = EtcdPasswordFile,
    };

    /// <summary>This config with the store replaced by <paramref name="store"/>.</summary>
    public ServerConfig WithStore(StoreConfig store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return this with
        {
            Store = store.Kind,
            EtcdEndpoints = store.EtcdEndpoints,
            EtcdCaFile = store.EtcdCaFile,
            EtcdCertFile = store.EtcdCertFile,
            EtcdKeyFile = store.EtcdKeyFile,
            EtcdUser = store.EtcdUser,
            EtcdPasswordFile = store.EtcdPasswordFile,
        };
    }
}

/// <summary><c>server.json</c> and the cluster authority file: snake_case, durations as in stack files (<c>2s</c>, <c>300ms</c>; the <c>00:00:02</c> form earlier versions wrote still reads).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(Corral.Core.DurationJsonConverter)])]
[JsonSerializable(typeof(ServerConfig))]
[JsonSerializable(typeof(Security.ClusterAuthority))]
public sealed partial class ServerJson : JsonSerializerContext;
