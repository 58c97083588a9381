namespace Corral.Testing.Lab;

/// <summary>One instance of a singleton as a <see cref="SingletonWitness"/> saw it.</summary>
/// <param name="Replica">Its replica id.</param>
/// <param name="First">Its first tick, in either view.</param>
/// <param name="Last">Its last tick, in either view.</param>
/// <param name="FirstHeard">Its first datagram at the witness, if any arrived.</param>
/// <param name="LastHeard">Its last datagram at the witness, if any arrived.</param>
/// <param name="From">The address its datagrams came from (its node), or empty.</param>
public sealed record WitnessedInstance(string Replica, DateTimeOffset First, DateTimeOffset Last, DateTimeOffset? FirstHeard, DateTimeOffset? LastHeard, string From)
{
    public override string ToString() =>
        $"{Replica} from {(From.Length > 0 ? From : "?")}: {First:HH:mm:ss.fff}–{Last:HH:mm:ss.fff} (heard {FirstHeard:HH:mm:ss.fff}–{LastHeard:HH:mm:ss.fff})";
}
