using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;
using Google.Protobuf;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>
    /// <paramref name="member"/>'s own status (Maintenance.Status sent to its first client URL, not to the preferred
    /// endpoint): which leader it follows and how far its raft log is. Throws <see cref="StoreUnavailableException"/>
    /// when it does not answer, <see cref="StoreException"/> when it has no client URL.
    /// </summary>
    public async Task<EtcdMemberStatus> GetMemberStatusAsync(EtcdMemberInfo member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (member.ClientUrls.Count == 0)
        {
            throw new StoreException($"etcd member '{member.Name}' ({member.Id:x}) has no client URL (not started yet)");
        }
        var status = await CallMemberAsync(member.ClientUrls[0], EtcdMethods.Status, new StatusRequest(), StatusResponse.Parser, "Status", cancellationToken).ConfigureAwait(false);
        return new EtcdMemberStatus(status.Header.MemberId, status.Leader, status.RaftTerm, status.RaftIndex, status.RaftAppliedIndex, status.IsLearner, [.. status.Errors]);
    }

    /// <summary>
    /// Hands raft leadership to member <paramref name="targetId"/> (etcd's Maintenance.MoveLeader, sent to the current
    /// leader's own client URL, which is the only member that accepts it). etcd answers once the target leads. Returns
    /// the member that led before (the target itself when it already led: nothing is sent). When leadership moves to
    /// another member meanwhile ("not leader"), the call is sent once more to the new leader. Throws
    /// <see cref="StoreException"/> when the target is not a voting member or etcd refuses the transfer, and
    /// <see cref="StoreUnavailableException"/> when there is no leader or it does not answer.
    /// </summary>
    public async Task<ulong> MoveLeaderAsync(ulong targetId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var members = await ListMembersAsync(cancellationToken).ConfigureAwait(false);
            var target = members.FirstOrDefault(m => m.Id == targetId)
                ?? throw new StoreException($"etcd MoveLeader: {targetId:x} is not a member of the cluster (members: {string.Join(", ", members.Select(m => $"{m.Name} {m.Id:x}"))})");
            if (target.IsLearner)
            {
                throw new StoreException($"etcd MoveLeader: member '{target.Name}' ({targetId:x}) is a learner and cannot lead");
            }
            StatusResponse status;
            try
            {
                status = await CallAsync(EtcdMethods.Status, new StatusRequest(), StatusResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            }
            catch (GrpcException e)
            {
                throw await MapErrorAsync(e, "Status", 0, 0, cancellationToken).ConfigureAwait(false);
            }
            if (status.Leader == 0)
            {
                throw new StoreUnavailableException($"etcd MoveLeader: {CurrentEndpoint} knows no leader (an election is under way, or the quorum is lost)");
            }
            if (status.Leader == targetId)
            {
                return targetId;
            }
            var leader = members.FirstOrDefault(m => m.Id == status.Leader);
            if (leader is not { ClientUrls.Count: > 0 })
            {
                throw new StoreUnavailableException($"etcd MoveLeader: the leader {status.Leader:x} is not in the member list or has no client URL");
            }
            try
            {
                await CallMemberAsync(leader.ClientUrls[0], EtcdMethods.MoveLeader, new MoveLeaderRequest { TargetID = targetId }, MoveLeaderResponse.Parser, "MoveLeader", cancellationToken).ConfigureAwait(false);
                return leader.Id;
            }
            catch (StoreException e) when (attempt == 1 && e.Message.Contains("etcdserver: not leader", StringComparison.Ordinal))
            {
                // Leadership moved between the Status and the MoveLeader: ask the new leader.
            }
        }
    }

    /// <summary>
    /// One unary call to the member at <paramref name="url"/> (the store's channel to it when it is a configured
    /// endpoint, else a channel for this call), with the store's credentials and deadline, without failover.
    /// </summary>
    private async Task<TResponse> CallMemberAsync<TResponse>(string url, string method, IMessage request, MessageParser<TResponse> parser, string what, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_options.Username is not null && _settings.Token is null)
        {
            await AuthenticateAsync(null, cancellationToken).ConfigureAwait(false);
        }
        var channel = FindChannel(url);
        var transient = channel is null;
        channel ??= new GrpcChannel(new Uri(url), _channelOptions);
        try
        {
            return await channel.UnaryAsync(method, request, parser, _settings.Unary, cancellationToken).ConfigureAwait(false);
        }
        catch (GrpcException e) when (IsTransient(e))
        {
            throw new StoreUnavailableException($"etcd {what} at {url} failed: {e.StatusMessage}", e);
        }
        catch (GrpcException e)
        {
            throw new StoreException($"etcd {what} at {url} failed: {e.StatusMessage}", e);
        }
        finally
        {
            if (transient)
            {
                channel.Dispose();
            }
        }
    }
}
