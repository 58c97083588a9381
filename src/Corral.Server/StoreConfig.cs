using Corral.Store;
using Corral.Store.Etcd;
using Corral.Store.Sqlite;
using Microsoft.Extensions.Logging;

namespace Corral.Server;

/// <summary>
/// Which store a server uses: the embedded SQLite file in its data directory, or an etcd cluster shared by every
/// server of the cluster (with optional TLS and etcd auth). Written by <c>corral server init --store</c> into
/// <c>server.json</c>; <c>corral server run --store</c> may override it.
/// </summary>
public sealed record StoreConfig
{
    /// <value><c>sqlite</c> (embedded, single server) or <c>etcd</c>. Default <c>sqlite</c>.</value>
    public string Kind { get; init; } = "sqlite";

    /// <value>For etcd: the members' client URLs (<c>http://</c>, or <c>https://</c> when TLS is set). Default none.</value>
    public IReadOnlyList<string> EtcdEndpoints { get; init; } = [];

    /// <value>For etcd over TLS: PEM file of the CA that signed the members' certificates. Default null.</value>
    public string? EtcdCaFile { get; init; }

    /// <value>For etcd mutual TLS: PEM client certificate (with <see cref="EtcdKeyFile"/>). Default null.</value>
    public string? EtcdCertFile { get; init; }

    /// <value>PEM private key of <see cref="EtcdCertFile"/>. Default null.</value>
    public string? EtcdKeyFile { get; init; }

    /// <value>etcd user when etcd auth is on (with <see cref="EtcdPasswordFile"/>). Default null.</value>
    public string? EtcdUser { get; init; }

    /// <value>A file holding <see cref="EtcdUser"/>'s password (first line), so it is not on the command line. Default null.</value>
    public string? EtcdPasswordFile { get; init; }

    /// <summary>The embedded SQLite store.</summary>
    public static StoreConfig Sqlite { get; } = new();

    /// <summary>
    /// Parses <c>sqlite</c> or <c>etcd://HOST:PORT[,HOST:PORT...]</c>. The endpoints become <c>https://</c> URLs when
    /// <paramref name="tls"/> (a CA or client certificate is given), else <c>http://</c>. Throws
    /// <see cref="ArgumentException"/> naming <paramref name="flag"/> and the bad part.
    /// </summary>
    public static StoreConfig Parse(string text, bool tls, string flag = "--store")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "sqlite")
        {
            return Sqlite;
        }
        const string Scheme = "etcd://";
        if (!text.StartsWith(Scheme, StringComparison.Ordinal) || text.Length == Scheme.Length)
        {
            throw new ArgumentException($"{flag} '{text}': expected 'sqlite' or 'etcd://HOST:PORT[,HOST:PORT...]'");
        }
        var endpoints = new List<string>();
        foreach (var part in text[Scheme.Length..].Split(','))
        {
            var hostPort = part.Trim().TrimEnd('/');
            if (!Uri.TryCreate("http://" + hostPort, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || uri.IsDefaultPort
                || !hostPort.Contains(':', StringComparison.Ordinal) || uri.UserInfo.Length > 0 || uri.Query.Length > 0)
            {
                throw new ArgumentException($"{flag} '{text}': '{part}' is not HOST:PORT (for example 10.0.0.1:2379)");
            }
            endpoints.Add($"{(tls ? "https" : "http")}://{uri.Authority}");
        }
        return new StoreConfig { Kind = "etcd", EtcdEndpoints = endpoints };
    }

    /// <summary>The store URL as <see cref="Parse"/> reads it (for messages and <c>corral status</c>).</summary>
    public override string ToString() => Kind == "etcd" ? "etcd://" + string.Join(',', EtcdEndpoints.Select(e => new Uri(e).Authority)) : Kind;

    /// <summary>The etcd client options; throws <see cref="ArgumentException"/> listing every problem.</summary>
    public EtcdStoreOptions ToEtcdOptions()
    {
        string? password = null;
        if (EtcdPasswordFile is not null)
        {
            if (!File.Exists(EtcdPasswordFile))
            {
                throw new ArgumentException($"etcd password file '{EtcdPasswordFile}' does not exist");
            }
            password = File.ReadLines(EtcdPasswordFile).FirstOrDefault() ?? "";
        }
        var options = new EtcdStoreOptions
        {
            Endpoints = EtcdEndpoints,
            CaFile = EtcdCaFile,
            ClientCertificateFile = EtcdCertFile,
            ClientKeyFile = EtcdKeyFile,
            Username = EtcdUser,
            Password = EtcdUser is null ? null : password ?? throw new ArgumentException("an etcd user needs a password file (--etcd-password-file)"),
        };
        options.ThrowIfInvalid();
        return options;
    }

    /// <summary>Opens the store this config names; the caller owns (disposes) it.</summary>
    public IClusterStore Open(ServerPaths paths, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Kind switch
        {
            "sqlite" => SqliteStore.Open(new SqliteStoreOptions { DataDirectory = paths.StoreDir }, time, loggers.CreateLogger<SqliteStore>()),
            "etcd" => new EtcdStore(ToEtcdOptions(), time, loggers.CreateLogger<EtcdStore>()),
            _ => throw new InvalidOperationException($"{paths.ServerConfig}: store '{Kind}' is unknown (expected sqlite or etcd)"),
        };
    }
}
