using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Security;

/// <summary>
/// The life of node client certificates: issued from a CSR at join and at renewal (each recorded under the node, so
/// that it can be revoked), and revoked all at once when the node is removed.
/// </summary>
public sealed class NodeCertificates
{
    /// <value>Default validity of a node certificate: one year.</value>
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);

    /// <summary>Shortest validity accepted: 10 s (tests of renewal; a real cluster keeps the default).</summary>
    public static readonly TimeSpan MinValidity = TimeSpan.FromSeconds(10);

    private const int MaxAttempts = 10;

    private readonly CertificateAuthority _ca;
    private readonly ClusterState _state;
    private readonly TimeProvider _time;

    public NodeCertificates(CertificateAuthority ca, ClusterState state, TimeProvider time, TimeSpan validity)
    {
        _ca = ca ?? throw new ArgumentNullException(nameof(ca));
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        if (validity < MinValidity)
        {
            throw new ArgumentOutOfRangeException(nameof(validity), validity, $"a node certificate must be valid for at least {MinValidity.TotalSeconds} s");
        }
        Validity = validity;
    }

    /// <summary>How long each issued certificate is valid.</summary>
    public TimeSpan Validity { get; }

    /// <summary>The cluster CA.</summary>
    public CertificateAuthority Authority => _ca;

    /// <summary>
    /// Issues a client certificate for <paramref name="node"/> from its CSR and records its serial under the node
    /// (dropping expired ones), so that <see cref="RevokeOpsAsync"/> finds it. Null when the record kept changing
    /// under concurrent issues (the caller answers 409: try again).
    /// </summary>
    public async Task<X509Certificate2?> IssueAsync(string node, string csrPem, CancellationToken cancellationToken)
    {
        var certificate = Sign(node, csrPem);
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var (compare, put, _) = await RecordOpsAsync(node, certificate, cancellationToken).ConfigureAwait(false);
                if ((await _state.Store.TxnAsync(Txn.If(compare).Then(put), cancellationToken).ConfigureAwait(false)).Succeeded)
                {
                    return certificate;
                }
            }
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
        certificate.Dispose();
        return null;
    }

    /// <summary>A client certificate for <paramref name="node"/> from its CSR, signed by the CA; nothing is recorded yet.</summary>
    public X509Certificate2 Sign(string node, string csrPem)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        return _ca.IssueNodeCertificate(csrPem, node, Validity);
    }

    /// <summary>
    /// The compare and the put that add <paramref name="certificate"/> to <paramref name="node"/>'s record (dropping
    /// expired ones), for the caller to commit, and the unexpired certificates the record held already.
    /// </summary>
    public async Task<(Compare Compare, TxnOp Put, IReadOnlyList<IssuedCertificate> Unexpired)> RecordOpsAsync(string node, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        ArgumentNullException.ThrowIfNull(certificate);
        var key = Keys.NodeCertificate(node);
        var kv = await _state.Store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        IReadOnlyList<IssuedCertificate> kept = kv is null
            ? []
            : [.. JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.NodeCertificateRecord)!.Certificates.Where(c => c.NotAfter > now)];
        var issued = new IssuedCertificate(certificate.SerialNumber, now, certificate.NotAfter.ToUniversalTime());
        var record = new NodeCertificateRecord(node, [.. kept, issued]);
        var put = new TxnOp.Put(key, JsonSerializer.SerializeToUtf8Bytes(record, SecurityJson.Default.NodeCertificateRecord));
        var compare = kv is null ? Compare.Missing(key) : Compare.ModRevision(key, CompareOp.Equal, kv.ModRevision);
        return (compare, put, kept);
    }

    /// <summary>
    /// The compares and operations that revoke every unexpired certificate issued to <paramref name="node"/> and
    /// forget its record, for the caller to commit in the same transaction as the node's removal. Revocations of
    /// certificates that have expired since (no longer usable anyway) are deleted on the way.
    /// </summary>
    public async Task<(IReadOnlyList<Compare> Compares, IReadOnlyList<TxnOp> Ops, int Revoked)> RevokeOpsAsync(string node, string actor, CancellationToken cancellationToken)
    {
        var key = Keys.NodeCertificate(node);
        var now = _time.GetUtcNow();
        var pruned = new List<TxnOp>();
        foreach (var old in (await _state.Store.RangeAsync(Keys.RevokedCertificates, null, cancellationToken).ConfigureAwait(false)).Kvs)
        {
            if (JsonSerializer.Deserialize(old.Value.Span, SecurityJson.Default.RevokedCertificate)!.NotAfter <= now)
            {
                pruned.Add(new TxnOp.Delete(old.Key));
            }
        }
        var kv = await _state.Store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (kv is null)
        {
            return ([Compare.Missing(key)], pruned, 0);
        }
        var record = JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.NodeCertificateRecord)!;
        var ops = new List<TxnOp>(pruned) { new TxnOp.Delete(key) };
        var revoked = 0;
        foreach (var certificate in record.Certificates.Where(c => c.NotAfter > now))
        {
            var entry = new RevokedCertificate(certificate.Serial, node, now, actor, certificate.NotAfter);
            ops.Add(new TxnOp.Put(Keys.RevokedCertificate(certificate.Serial), JsonSerializer.SerializeToUtf8Bytes(entry, SecurityJson.Default.RevokedCertificate)));
            revoked++;
        }
        return ([Compare.ModRevision(key, CompareOp.Equal, kv.ModRevision)], ops, revoked);
    }
}
