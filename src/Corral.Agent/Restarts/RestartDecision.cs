using Corral.Core.Tasks;

namespace Corral.Agent.Restarts;

/// <summary>
/// What to do after a task exited.
/// </summary>
/// <param name="Restart">True when the task is to be started again after <paramref name="Delay"/>.</param>
/// <param name="Delay">Back-off before the restart; zero when <paramref name="Restart"/> is false.</param>
/// <param name="FinalState">
/// When <paramref name="Restart"/> is false: <see cref="ReplicaState.Exited"/> for a clean exit the policy does not
/// restart, <see cref="ReplicaState.Failed"/> otherwise. When it is true: <see cref="ReplicaState.Starting"/>.
/// </param>
/// <param name="Reason">One line for the replica status, naming the exit code (and for a failure the stderr tail).</param>
public sealed record RestartDecision(bool Restart, TimeSpan Delay, ReplicaState FinalState, string Reason);
