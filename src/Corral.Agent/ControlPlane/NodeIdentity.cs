using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Corral.Agent.ControlPlane;

/// <summary>
/// What a node keeps after joining, in <c>DATA-DIR/identity/</c>: its name, the servers it knows, its client
/// certificate and key, the cluster CA and its labels. Every file is mode 0600. Later starts use it instead of a token.
/// </summary>
public sealed record NodeIdentity(string NodeName, IReadOnlyList<Uri> Servers, string CertificatePem, string KeyPem, string CaPem, IReadOnlyDictionary<string, string> Labels)
{
    private const string Directory = "identity";

    /// <summary>The identity's directory under <paramref name="dataDirectory"/>.</summary>
    public static string DirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, Directory);

    /// <summary>True when <paramref name="dataDirectory"/> holds a stored identity.</summary>
    public static bool Exists(string dataDirectory) => File.Exists(Path.Combine(DirectoryOf(dataDirectory), "node.json"));

    /// <summary>Writes the identity (replacing a previous one); the directory is 0700 and every file 0600.</summary>
    public void Save(string dataDirectory)
    {
        var dir = DirectoryOf(dataDirectory);
        System.IO.Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        WritePrivate(Path.Combine(dir, "node.crt"), CertificatePem);
        WritePrivate(Path.Combine(dir, "node.key"), KeyPem);
        WritePrivate(Path.Combine(dir, "ca.crt"), CaPem);
        var info = new NodeInfo(NodeName, [.. Servers.Select(s => s.ToString())], Labels);
        WritePrivate(Path.Combine(dir, "node.json"), JsonSerializer.Serialize(info, NodeIdentityJson.Default.NodeInfo));
    }

    /// <summary>
    /// Replaces the stored certificate and key (after a renewal) so that a crash at any point leaves either the old
    /// pair or the new one, never a certificate with another key: the pair is written into <c>identity/next/</c>,
    /// which appears by an atomic rename, then moved into place; <see cref="Load"/> finishes a move a crash interrupted.
    /// </summary>
    public static void ReplaceCertificate(string dataDirectory, string certificatePem, string keyPem)
    {
        var dir = DirectoryOf(dataDirectory);
        var staging = Path.Combine(dir, "next.tmp");
        if (System.IO.Directory.Exists(staging))
        {
            System.IO.Directory.Delete(staging, recursive: true);
        }
        System.IO.Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        WritePrivate(Path.Combine(staging, "node.crt"), certificatePem, flush: true);
        WritePrivate(Path.Combine(staging, "node.key"), keyPem, flush: true);
        var next = Path.Combine(dir, "next");
        if (System.IO.Directory.Exists(next))
        {
            // A complete pair from an interrupted earlier replacement: the new one supersedes it.
            System.IO.Directory.Delete(next, recursive: true);
        }
        System.IO.Directory.Move(staging, next);
        FinishReplacement(dir);
    }

    /// <summary>Moves a complete pair from <c>identity/next/</c> into place, if one is there.</summary>
    private static void FinishReplacement(string dir)
    {
        var next = Path.Combine(dir, "next");
        if (!System.IO.Directory.Exists(next))
        {
            return;
        }
        var key = Path.Combine(next, "node.key");
        if (File.Exists(key))
        {
            File.Move(key, Path.Combine(dir, "node.key"), overwrite: true);
        }
        var certificate = Path.Combine(next, "node.crt");
        if (File.Exists(certificate))
        {
            File.Move(certificate, Path.Combine(dir, "node.crt"), overwrite: true);
        }
        System.IO.Directory.Delete(next, recursive: true);
    }

    /// <summary>Reads the identity stored in <paramref name="dataDirectory"/>; throws <see cref="IOException"/> naming a missing or bad file.</summary>
    public static NodeIdentity Load(string dataDirectory)
    {
        var dir = DirectoryOf(dataDirectory);
        FinishReplacement(dir);
        var infoPath = Path.Combine(dir, "node.json");
        NodeInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(File.ReadAllText(infoPath), NodeIdentityJson.Default.NodeInfo);
        }
        catch (JsonException e)
        {
            throw new IOException($"{infoPath} is not valid: {e.Message}", e);
        }
        if (info is null || string.IsNullOrEmpty(info.Node))
        {
            throw new IOException($"{infoPath} names no node");
        }
        return new NodeIdentity(
            info.Node,
            [.. info.Servers.Select(s => new Uri(s))],
            File.ReadAllText(Path.Combine(dir, "node.crt")),
            File.ReadAllText(Path.Combine(dir, "node.key")),
            File.ReadAllText(Path.Combine(dir, "ca.crt")),
            info.Labels ?? new Dictionary<string, string>());
    }

    /// <summary>The client certificate with its private key.</summary>
    public X509Certificate2 ClientCertificate()
    {
        using var pem = X509Certificate2.CreateFromPem(CertificatePem, KeyPem);
        // Export/import so the key is usable for TLS client authentication on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The cluster CA certificate.</summary>
    public X509Certificate2 ClusterCa() => X509Certificate2.CreateFromPem(CaPem);

    private static void WritePrivate(string path, string content, bool flush = false)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using (var writer = new StreamWriter(stream, leaveOpen: true))
        {
            writer.Write(content);
        }
        if (flush)
        {
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>Moves the stored identity aside (to <c>identity.revoked-TIME</c>) so that the data dir can join again with a new token; returns where it went.</summary>
    public static string Retire(string dataDirectory, DateTimeOffset now)
    {
        var target = Path.Combine(dataDirectory, "identity.revoked-" + now.ToString("yyyyMMddTHHmmssZ", System.Globalization.CultureInfo.InvariantCulture));
        System.IO.Directory.Move(DirectoryOf(dataDirectory), target);
        return target;
    }

    internal sealed record NodeInfo(string Node, IReadOnlyList<string> Servers, IReadOnlyDictionary<string, string>? Labels);
}
