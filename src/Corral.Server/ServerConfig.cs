using System.Text.Json.Serialization;

namespace Corral.Server;

/// <summary>What <c>corral server init</c> decided, kept in <c>server.json</c> and read by <c>corral server run</c>.</summary>
/// <param name="Name">The server's name (defaults to the host name).</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Store">Store kind: <c>sqlite</c> (embedded) or <c>etcd</c>.</param>
/// <param name="EtcdEndpoints">For <c>etcd</c>: the client URLs.</param>
public sealed record ServerConfig(string Name, string Cluster, string Store, IReadOnlyList<string> EtcdEndpoints);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ServerConfig))]
public sealed partial class ServerJson : JsonSerializerContext;
