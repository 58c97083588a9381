using Corral.Store;

namespace Corral.Server.Security;

/// <summary>
/// One use of a join token, checked and ready to commit: <see cref="Compare"/> holds while the token is as it was read,
/// and <see cref="Ops"/> consume the use and record the join event. Committed in the same transaction as what the join
/// creates, so that a join either happens whole or leaves the token as it was.
/// </summary>
/// <param name="Record">The token's record before this use.</param>
public sealed record JoinTokenRedemption(JoinTokenRecord Record, Compare Compare, IReadOnlyList<TxnOp> Ops);
