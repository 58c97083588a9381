using System.Text.Json;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Security;

/// <summary>API keys kept hashed in the store under <see cref="Keys.ApiKeys"/>.</summary>
public sealed class ApiKeyStore(IClusterStore store, ClusterState state, TimeProvider time)
{
    /// <summary>Creates a key and records who created it; returns the record and the key's text (shown once).</summary>
    public async Task<(ApiKeyRecord Record, ApiKey Key)> CreateAsync(string name, Role role, string createdBy, CancellationToken cancellationToken)
    {
        var key = ApiKey.Generate();
        var record = new ApiKeyRecord(key.Id, name, role, key.SecretHash, time.GetUtcNow(), createdBy, null);
        var put = new TxnOp.Put(Keys.ApiKey(key.Id), JsonSerializer.SerializeToUtf8Bytes(record, SecurityJson.Default.ApiKeyRecord));
        await store.TxnAsync(
            Txn.If(Compare.Missing(Keys.ApiKey(key.Id))).Then(put, state.EventOp("apikey.created", $"apikey/{name}", $"API key '{name}' ({role.ToString().ToLowerInvariant()}) created", createdBy)),
            cancellationToken).ConfigureAwait(false);
        return (record, key);
    }

    /// <summary>The record for a presented key when it exists, is not revoked and its secret matches; else null.</summary>
    public async Task<ApiKeyRecord?> AuthenticateAsync(ApiKey presented, CancellationToken cancellationToken)
    {
        var record = await GetAsync(presented.Id, cancellationToken).ConfigureAwait(false);
        return record is { RevokedAt: null } && presented.Matches(record.SecretHash) ? record : null;
    }

    public async Task<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var kv = await store.GetAsync(Keys.ApiKey(id), cancellationToken).ConfigureAwait(false);
        return kv is null ? null : JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.ApiKeyRecord);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var range = await store.RangeAsync(Keys.ApiKeys, null, cancellationToken).ConfigureAwait(false);
        return [.. range.Kvs.Select(kv => JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.ApiKeyRecord)!).OrderBy(r => r.CreatedAt)];
    }

    /// <summary>Revokes a key; revoking a revoked key changes nothing. False when no such key exists.</summary>
    public async Task<bool> RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var kv = await store.GetAsync(Keys.ApiKey(id), cancellationToken).ConfigureAwait(false);
        if (kv is null)
        {
            return false;
        }
        var record = JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.ApiKeyRecord)!;
        if (record.RevokedAt is not null)
        {
            return true;
        }
        var revoked = record with { RevokedAt = time.GetUtcNow() };
        await store.TxnAsync(
            Txn.If(Compare.ModRevision(kv.Key, CompareOp.Equal, kv.ModRevision)).Then(
                new TxnOp.Put(kv.Key, JsonSerializer.SerializeToUtf8Bytes(revoked, SecurityJson.Default.ApiKeyRecord)),
                state.EventOp("apikey.revoked", $"apikey/{record.Name}", $"API key '{record.Name}' revoked", actor)),
            cancellationToken).ConfigureAwait(false);
        return true;
    }
}
