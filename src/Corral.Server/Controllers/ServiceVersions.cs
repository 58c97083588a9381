using System.Text.Json;
using Corral.Core;
using Corral.Core.Services;
using Corral.Store;

namespace Corral.Server.Controllers;

/// <summary>
/// Copies of every service version that replicas were created with, under <c>/corral/versions/SERVICE/VERSION</c>,
/// so a node keeps being told what an old-version replica runs while a new version rolls out. Written by the
/// reconciler in the transaction that creates the first replica of a version; immutable (a version is a hash of the spec).
/// </summary>
public static class ServiceVersions
{
    public const string Prefix = "/corral/versions/";

    public static string Key(string service, string version) => Prefix + service + "/" + version;

    public static TxnOp.Put PutOp(ServiceSpec spec) =>
        new(Key(spec.Name, spec.Version), JsonSerializer.SerializeToUtf8Bytes(spec, CoreJson.Default.ServiceSpec));

    /// <summary>The (service, version) pair a key under <see cref="Prefix"/> names, or null for another key.</summary>
    public static (string Service, string Version)? Parse(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = key.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        return slash <= 0 || slash == rest.Length - 1 ? null : (rest[..slash].ToString(), rest[(slash + 1)..].ToString());
    }
}
