namespace Corral.Store.Etcd;

/// <summary>One member's own view of the raft cluster (etcd's Maintenance.Status, asked at that member).</summary>
/// <param name="MemberId">The member that answered.</param>
/// <param name="Leader">The raft leader it knows of; 0 when it knows none.</param>
/// <param name="RaftTerm">Its raft term.</param>
/// <param name="RaftIndex">Its last raft log index.</param>
/// <param name="RaftAppliedIndex">The last raft log index it has applied.</param>
/// <param name="IsLearner">Whether it is a learner (cannot vote or lead).</param>
/// <param name="Errors">Its alarms and errors (e.g. "NOSPACE"); empty when healthy.</param>
public sealed record EtcdMemberStatus(ulong MemberId, ulong Leader, ulong RaftTerm, ulong RaftIndex, ulong RaftAppliedIndex, bool IsLearner, IReadOnlyList<string> Errors)
{
    /// <summary>Answers without errors and knows a leader.</summary>
    public bool IsHealthy => Errors.Count == 0 && Leader != 0;
}
