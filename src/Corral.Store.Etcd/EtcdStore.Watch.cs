using System.Runtime.CompilerServices;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <inheritdoc />
    public async IAsyncEnumerable<WatchBatch> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidatePrefix(prefix);
        if (fromRevision < 0)
        {
            throw new ArgumentException($"watch start revision must be 0 (next write) or positive; got {fromRevision}", nameof(fromRevision));
        }
        ThrowIfCompacted(fromRevision);
        await using var session = new EtcdWatchSession(this, prefix, fromRevision);
        while (true)
        {
            var batches = await session.NextAsync(cancellationToken).ConfigureAwait(false);
            foreach (var batch in batches)
            {
                yield return batch;
            }
        }
    }
}
