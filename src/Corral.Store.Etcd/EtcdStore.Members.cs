using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>The cluster's members (etcd's Cluster.MemberList).</summary>
    public async Task<IReadOnlyList<EtcdMemberInfo>> ListMembersAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await CallAsync(EtcdMethods.MemberList, new MemberListRequest(), MemberListResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            return [.. response.Members.Select(ToInfo)];
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "MemberList", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds a voting member that will start with <paramref name="peerUrl"/> (etcd's Cluster.MemberAdd); returns the new
    /// member and every member after the change. The new member must then be started with
    /// <c>--initial-cluster-state existing</c>. Needs a quorum.
    /// </summary>
    public async Task<(EtcdMemberInfo Added, IReadOnlyList<EtcdMemberInfo> Members)> AddMemberAsync(string peerUrl, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(peerUrl);
        var request = new MemberAddRequest();
        request.PeerURLs.Add(peerUrl);
        try
        {
            var response = await CallAsync(EtcdMethods.MemberAdd, request, MemberAddResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
            return (ToInfo(response.Member), [.. response.Members.Select(ToInfo)]);
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "MemberAdd", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes a member (etcd's Cluster.MemberRemove); returns the members left. Needs a quorum.</summary>
    public async Task<IReadOnlyList<EtcdMemberInfo>> RemoveMemberAsync(ulong id, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await CallAsync(EtcdMethods.MemberRemove, new MemberRemoveRequest { ID = id }, MemberRemoveResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
            return [.. response.Members.Select(ToInfo)];
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "MemberRemove", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    private static EtcdMemberInfo ToInfo(Member member) => new(member.ID, member.Name, [.. member.PeerURLs], [.. member.ClientURLs], member.IsLearner);
}
