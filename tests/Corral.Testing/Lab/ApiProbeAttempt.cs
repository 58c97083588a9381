namespace Corral.Testing.Lab;

/// <summary>One attempt of an <see cref="ApiAnswerProbe"/>: when it started, whether TCP connected, and the HTTP status (0: none).</summary>
public sealed record ApiProbeAttempt(DateTimeOffset At, bool Connected, int Status)
{
    /// <summary>The API answered <c>/readyz</c> with 200.</summary>
    public bool Ready => Status == 200;
}
