using System.Security.Cryptography.X509Certificates;

namespace Corral.Store.Etcd.Grpc;

/// <summary>Transport settings of a <see cref="GrpcChannel"/>.</summary>
public sealed record GrpcChannelOptions
{
    /// <value>
    /// Certificates trusted as roots for <c>https://</c> endpoints instead of the system store; null uses the system
    /// store. Default null.
    /// </value>
    public X509Certificate2Collection? TrustedRoots { get; init; }

    /// <value>Client certificate (with private key) presented to <c>https://</c> endpoints; null for none. Default null.</value>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <value>How long establishing a connection (TCP plus TLS) may take. Default 5 s.</value>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>
    /// Interval of HTTP/2 keep-alive pings on an idle or streaming connection; a connection whose ping is not
    /// answered within <see cref="KeepAlivePingTimeout"/> is failed, which fails its streams. Default 10 s.
    /// </value>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <value>See <see cref="KeepAlivePingDelay"/>. Default 5 s.</value>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>Largest response message accepted. Default 64 MiB.</value>
    public int MaxReceiveMessageBytes { get; init; } = 64 * 1024 * 1024;

    public static GrpcChannelOptions Default { get; } = new();
}
