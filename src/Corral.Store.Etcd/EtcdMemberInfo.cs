namespace Corral.Store.Etcd;

/// <summary>An etcd cluster member as the Cluster API reports it.</summary>
/// <param name="Id">The member id.</param>
/// <param name="Name">Its name; empty for a member added but not started yet.</param>
/// <param name="PeerUrls">Its peer URLs.</param>
/// <param name="ClientUrls">Its client URLs; empty until it has started.</param>
/// <param name="IsLearner">Whether it is a learner (a non-voting member that cannot lead).</param>
public sealed record EtcdMemberInfo(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls, bool IsLearner = false);
