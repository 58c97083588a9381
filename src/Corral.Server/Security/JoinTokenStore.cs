using System.Text.Json;
using Corral.Core.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Security;

/// <summary>
/// Join tokens kept hashed in the store under <see cref="Keys.JoinTokens"/>. A token allows a bounded number of joins
/// until it expires or is revoked; each join consumes one use in a transaction, so concurrent joins never exceed it.
/// </summary>
public sealed class JoinTokenStore(IClusterStore store, ClusterState state, CertificateAuthority ca, TimeProvider time)
{
    /// <summary>The roles a join token may grant.</summary>
    public static readonly IReadOnlyList<string> Roles = ["agent", "server"];

    private const int MaxAttempts = 10;

    /// <summary>Creates a token and records who created it; returns the record and the token (its text is shown once).</summary>
    public async Task<(JoinTokenRecord Record, JoinToken Token)> CreateAsync(TimeSpan ttl, int uses, string role, string createdBy, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(uses, 1);
        var token = JoinToken.Generate(ca.Pin);
        var now = time.GetUtcNow();
        var record = new JoinTokenRecord(token.Id, role, token.SecretHash, now, createdBy, now + ttl, uses, uses, null);
        var put = new TxnOp.Put(Keys.JoinToken(token.Id), JsonSerializer.SerializeToUtf8Bytes(record, SecurityJson.Default.JoinTokenRecord));
        await store.TxnAsync(
            Txn.If(Compare.Missing(Keys.JoinToken(token.Id))).Then(put, state.EventOp("token.created", $"token/{token.Id}", $"join token {token.Id} ({role}, {uses} use(s)) created", createdBy)),
            cancellationToken).ConfigureAwait(false);
        return (record, token);
    }

    public async Task<IReadOnlyList<JoinTokenRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var range = await store.RangeAsync(Keys.JoinTokens, null, cancellationToken).ConfigureAwait(false);
        return [.. range.Kvs.Select(kv => JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.JoinTokenRecord)!).OrderBy(r => r.CreatedAt)];
    }

    /// <summary>Revokes a token; revoking a revoked token changes nothing. False when no such token exists.</summary>
    public async Task<bool> RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var kv = await store.GetAsync(Keys.JoinToken(id), cancellationToken).ConfigureAwait(false);
            if (kv is null)
            {
                return false;
            }
            var record = JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.JoinTokenRecord)!;
            if (record.RevokedAt is not null)
            {
                return true;
            }
            var revoked = record with { RevokedAt = time.GetUtcNow() };
            var result = await store.TxnAsync(
                Txn.If(Compare.ModRevision(kv.Key, CompareOp.Equal, kv.ModRevision)).Then(
                    new TxnOp.Put(kv.Key, JsonSerializer.SerializeToUtf8Bytes(revoked, SecurityJson.Default.JoinTokenRecord)),
                    state.EventOp("token.revoked", $"token/{id}", $"join token {id} revoked", actor)),
                cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return true;
            }
        }
        throw new StoreUnavailableException($"join token {id} kept changing while being revoked");
    }

    /// <summary>
    /// Consumes one use of <paramref name="presented"/> for <paramref name="node"/> and records a <c>server.joined</c>
    /// or <c>node.joined</c> event in the same transaction. Returns the token's record as it was before, or a refusal that
    /// says why (unknown, revoked, expired, used up).
    /// </summary>
    public async Task<(JoinTokenRecord? Record, string? Refusal)> RedeemAsync(JoinToken presented, string node, CancellationToken cancellationToken, string role = "agent")
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (redemption, refusal) = await PrepareRedeemAsync(presented, node, role, cancellationToken).ConfigureAwait(false);
            if (redemption is null)
            {
                return (null, refusal);
            }
            var result = await store.TxnAsync(Txn.If(redemption.Compare).Then([.. redemption.Ops]), cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return (redemption.Record, null);
            }
        }
        throw new StoreUnavailableException($"join token {presented.Id} kept changing while being redeemed");
    }

    /// <summary>
    /// Checks <paramref name="presented"/> and prepares the use of it for <paramref name="node"/> without writing: the
    /// compare that the token is as read and the operations that consume one use and record the join event, for the
    /// caller to commit in one transaction with what the join creates (a node's certificate record). Otherwise a refusal
    /// that says why (unknown, another CA, another role, revoked, expired, used up).
    /// </summary>
    public async Task<(JoinTokenRedemption? Redemption, string? Refusal)> PrepareRedeemAsync(JoinToken presented, string node, string role, CancellationToken cancellationToken)
    {
        var kv = await store.GetAsync(Keys.JoinToken(presented.Id), cancellationToken).ConfigureAwait(false);
        var record = kv is null ? null : JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.JoinTokenRecord);
        if (kv is null || record is null || !presented.Matches(record.SecretHash))
        {
            return (null, $"unknown join token {presented.Id}");
        }
        if (!string.Equals(presented.CaPinHex, ca.Pin[CaPin.Prefix.Length..], StringComparison.Ordinal))
        {
            return (null, $"join token {presented.Id} names another cluster CA");
        }
        if (record.Role != role)
        {
            return (null, $"join token {presented.Id} is for joining as {record.Role}, not as {role}");
        }
        if (record.RevokedAt is { } revokedAt)
        {
            return (null, $"join token {presented.Id} was revoked at {revokedAt:u}");
        }
        if (time.GetUtcNow() >= record.ExpiresAt)
        {
            return (null, $"join token {presented.Id} expired at {record.ExpiresAt:u}");
        }
        if (record.UsesLeft <= 0)
        {
            return (null, $"join token {presented.Id} was already used ({record.Uses} of {record.Uses} use(s))");
        }
        var consumed = record with { UsesLeft = record.UsesLeft - 1 };
        TxnOp[] ops =
        [
            new TxnOp.Put(kv.Key, JsonSerializer.SerializeToUtf8Bytes(consumed, SecurityJson.Default.JoinTokenRecord)),
            role == "server"
                ? state.EventOp("server.joined", $"server/{node}", $"server '{node}' joined with token {record.Id}", $"server:{node}")
                : state.EventOp("node.joined", $"node/{node}", $"node '{node}' joined with token {record.Id}", $"node:{node}"),
        ];
        return (new JoinTokenRedemption(record, Compare.ModRevision(kv.Key, CompareOp.Equal, kv.ModRevision), ops), null);
    }
}
