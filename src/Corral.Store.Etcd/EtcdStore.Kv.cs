using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;
using Google.Protobuf;
using ApiCompare = Corral.Store.Etcd.Api.Compare;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <inheritdoc />
    public async Task<long> GetRevisionAsync(CancellationToken cancellationToken = default)
    {
        var request = new RangeRequest { Key = EtcdConvert.Nul, CountOnly = true, Serializable = ServeStaleReads };
        try
        {
            var response = await CallAsync(EtcdMethods.Range, request, RangeResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            return response.Header.Revision;
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "Range", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateKey(key);
        var request = new RangeRequest { Key = EtcdConvert.Key(key), Serializable = ServeStaleReads };
        try
        {
            var response = await CallAsync(EtcdMethods.Range, request, RangeResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            return response.Kvs.Count == 0 ? null : EtcdConvert.ToKeyValue(response.Kvs[0]);
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "Range", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<RangeResult> RangeAsync(string prefix, RangeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= RangeOptions.Default;
        var request = BuildRange(prefix, options, "options");
        request.Serializable = ServeStaleReads;
        ThrowIfCompacted(options.Revision);
        try
        {
            var response = await CallAsync(EtcdMethods.Range, request, RangeResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            return ToRangeResult(response, response.Header.Revision);
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "Range", 0, options.Revision, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateKey(key);
        StoreLimits.ValidateValue(value);
        StoreLimits.ValidateLeaseId(leaseId);
        var request = new PutRequest { Key = EtcdConvert.Key(key), Value = UnsafeByteOperations.UnsafeWrap(value), Lease = leaseId, PrevKv = true };
        try
        {
            var response = await CallAsync(EtcdMethods.Put, request, PutResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
            return new PutResult(response.Header.Revision, EtcdConvert.ToKeyValueOrNull(response.PrevKv));
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "Put", leaseId, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<DeleteResult> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateKey(key);
        return await DeleteRangeAsync(new DeleteRangeRequest { Key = EtcdConvert.Key(key), PrevKv = true }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<DeleteResult> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidatePrefix(prefix);
        var (key, end) = EtcdConvert.Prefix(prefix);
        return await DeleteRangeAsync(new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = true }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<TxnResult> TxnAsync(Txn txn, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateTxn(txn);
        var request = new TxnRequest();
        foreach (var compare in txn.Compares)
        {
            request.Compare.Add(ToCompare(compare));
        }
        var leaseId = 0L;
        AddOps(request.Success, txn.Success, ref leaseId);
        AddOps(request.Failure, txn.Failure, ref leaseId);
        try
        {
            // A transaction whose own success invalidates one of its compares applies at most once however often it
            // is sent: such a one is retried when its fate is unknown (its member's raft leader vanished mid-proposal),
            // after a short deadline, instead of failing with "may or may not have been applied".
            var once = AppliesAtMostOnce(txn);
            var response = await CallAsync(EtcdMethods.Txn, request, TxnResponse.Parser, idempotent: once, cancellationToken, once ? _options.GuardedWriteTimeout : null).ConfigureAwait(false);
            var revision = response.Header.Revision;
            var results = new TxnOpResult[response.Responses.Count];
            for (var i = 0; i < results.Length; i++)
            {
                var op = response.Responses[i];
                results[i] = op.ResponseCase switch
                {
                    ResponseOp.ResponseOneofCase.ResponsePut =>
                        new TxnOpResult.Put(new PutResult(revision, EtcdConvert.ToKeyValueOrNull(op.ResponsePut.PrevKv))),
                    ResponseOp.ResponseOneofCase.ResponseDeleteRange =>
                        new TxnOpResult.Delete(new DeleteResult(revision, op.ResponseDeleteRange.Deleted, EtcdConvert.ToKeyValues(op.ResponseDeleteRange.PrevKvs))),
                    ResponseOp.ResponseOneofCase.ResponseRange => new TxnOpResult.Range(ToRangeResult(op.ResponseRange, revision)),
                    _ => throw new StoreException($"etcd Txn: unexpected response {op.ResponseCase}"),
                };
            }
            return new TxnResult(response.Succeeded, revision, results);
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "Txn", leaseId, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        if (revision <= 0)
        {
            throw new ArgumentException($"compaction revision must be positive; got {revision}", nameof(revision));
        }
        ThrowIfCompacted(revision);
        try
        {
            await CallAsync(EtcdMethods.Compact, new CompactionRequest { Revision = revision }, CompactionResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
            RaiseCompactedFloor(revision);
        }
        catch (GrpcException e) when (e.StatusMessage.Contains("required revision is a future revision", StringComparison.Ordinal))
        {
            throw new ArgumentException($"cannot compact at revision {revision}: it is above the current revision", nameof(revision), e);
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "Compact", 0, revision, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<DeleteResult> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync(EtcdMethods.DeleteRange, request, DeleteRangeResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
            return new DeleteResult(response.Header.Revision, response.Deleted, EtcdConvert.ToKeyValues(response.PrevKvs));
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "DeleteRange", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    private static RangeRequest BuildRange(string prefix, RangeOptions options, string paramName)
    {
        StoreLimits.ValidatePrefix(prefix);
        if (options.Limit < 0)
        {
            throw new ArgumentException($"range limit must be 0 (no limit) or positive; got {options.Limit}", paramName);
        }
        if (options.Revision < 0)
        {
            throw new ArgumentException($"range revision must be 0 (current) or positive; got {options.Revision}", paramName);
        }
        var (key, end) = EtcdConvert.Prefix(prefix);
        if (options.After is { Length: > 0 } after)
        {
            StoreLimits.ValidateKey(after, paramName + ".After");
            var afterKey = EtcdConvert.After(after);
            if (afterKey.Span.SequenceCompareTo(key.Span) > 0)
            {
                key = afterKey;
            }
        }
        if (options.Before is { Length: > 0 } before)
        {
            StoreLimits.ValidateKey(before, paramName + ".Before");
            var beforeKey = UnsafeByteOperations.UnsafeWrap(System.Text.Encoding.UTF8.GetBytes(before));
            // The prefix's end "\0" means "no end" (every key): any real bound is below it.
            if (end.Span.SequenceEqual(EtcdConvert.Nul.Span) || beforeKey.Span.SequenceCompareTo(end.Span) < 0)
            {
                end = beforeKey;
            }
        }
        var request = new RangeRequest { Key = key, RangeEnd = end, Limit = options.Limit, Revision = options.Revision, KeysOnly = options.KeysOnly };
        if (options.Descending)
        {
            request.SortOrder = RangeRequest.Types.SortOrder.Descend;
            request.SortTarget = RangeRequest.Types.SortTarget.Key;
        }
        return request;
    }

    /// <summary>
    /// True when sending <paramref name="txn"/> again can never apply it twice: a compare requires a key's mod revision
    /// or version to equal a value (or the key to be missing) and the success branch writes that key, so once applied
    /// the compare fails; and the failure branch only reads. A retry after an unknown outcome then either applies it (the
    /// first did not) or finds the compare failed, which callers already handle by reading again.
    /// </summary>
    internal static bool AppliesAtMostOnce(Txn txn)
    {
        if (txn.Failure.Any(op => op is not (TxnOp.Get or TxnOp.Range)))
        {
            return false;
        }
        bool Writes(string key) => txn.Success.Any(op => op switch
        {
            TxnOp.Put put => put.Key == key,
            TxnOp.Delete delete => delete.Key == key,
            TxnOp.DeletePrefix prefix => key.StartsWith(prefix.Prefix, StringComparison.Ordinal),
            _ => false,
        });
        return txn.Compares.Any(c => !c.WholePrefix && c.Op == CompareOp.Equal && Writes(c.Key)
            && (c.Target is CompareTarget.ModRevision or CompareTarget.Version || (c.Target == CompareTarget.CreateRevision && c.Number == 0)));
    }

    private static RangeResult ToRangeResult(RangeResponse response, long revision) =>
        new(EtcdConvert.ToKeyValues(response.Kvs), revision, response.More, response.Count);

    private static ApiCompare ToCompare(Compare compare)
    {
        var result = new ApiCompare
        {
            Key = compare.WholePrefix ? EtcdConvert.Prefix(compare.Key).Key : EtcdConvert.Key(compare.Key),
            Result = compare.Op switch
            {
                CompareOp.Equal => ApiCompare.Types.CompareResult.Equal,
                CompareOp.NotEqual => ApiCompare.Types.CompareResult.NotEqual,
                CompareOp.Greater => ApiCompare.Types.CompareResult.Greater,
                CompareOp.Less => ApiCompare.Types.CompareResult.Less,
                _ => throw new ArgumentException($"unknown compare operator {compare.Op}", nameof(compare)),
            },
        };
        if (compare.WholePrefix)
        {
            result.RangeEnd = EtcdConvert.Prefix(compare.Key).RangeEnd;
        }
        switch (compare.Target)
        {
            case CompareTarget.Value:
                result.Target = ApiCompare.Types.CompareTarget.Value;
                result.Value = UnsafeByteOperations.UnsafeWrap(compare.Value);
                break;
            case CompareTarget.ModRevision:
                result.Target = ApiCompare.Types.CompareTarget.Mod;
                result.ModRevision = compare.Number;
                break;
            case CompareTarget.CreateRevision:
                result.Target = ApiCompare.Types.CompareTarget.Create;
                result.CreateRevision = compare.Number;
                break;
            case CompareTarget.Version:
                result.Target = ApiCompare.Types.CompareTarget.Version;
                result.Version = compare.Number;
                break;
            case CompareTarget.Lease:
                result.Target = ApiCompare.Types.CompareTarget.Lease;
                result.Lease = compare.Number;
                break;
            default:
                throw new ArgumentException($"unknown compare target {compare.Target}", nameof(compare));
        }
        return result;
    }

    private static void AddOps(Google.Protobuf.Collections.RepeatedField<RequestOp> target, IReadOnlyList<TxnOp> ops, ref long leaseId)
    {
        foreach (var op in ops)
        {
            switch (op)
            {
                case TxnOp.Put put:
                    if (leaseId == 0)
                    {
                        leaseId = put.Lease;
                    }
                    target.Add(new RequestOp { RequestPut = new PutRequest { Key = EtcdConvert.Key(put.Key), Value = UnsafeByteOperations.UnsafeWrap(put.Value), Lease = put.Lease, PrevKv = true } });
                    break;
                case TxnOp.Delete delete:
                    target.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = EtcdConvert.Key(delete.Key), PrevKv = true } });
                    break;
                case TxnOp.DeletePrefix deletePrefix:
                    var (key, end) = EtcdConvert.Prefix(deletePrefix.Prefix);
                    target.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = true } });
                    break;
                case TxnOp.Get get:
                    target.Add(new RequestOp { RequestRange = new RangeRequest { Key = EtcdConvert.Key(get.Key) } });
                    break;
                case TxnOp.Range range:
                    target.Add(new RequestOp { RequestRange = BuildRange(range.Prefix, range.Options, "txn") });
                    break;
                default:
                    throw new ArgumentException($"unknown transaction operation {op.GetType().Name}", nameof(ops));
            }
        }
    }
}
