namespace Corral.Testing.Lab;

/// <summary>One write of an <see cref="ApiWriteProbe"/>: when it was sent and answered, the HTTP status (0: no answer) and the problem's title and detail.</summary>
public sealed record ApiWrite(DateTimeOffset At, DateTimeOffset Done, int Status, string Problem)
{
    /// <summary>The write was applied (2xx).</summary>
    public bool Succeeded => Status is >= 200 and < 300;

    public override string ToString() => $"{At:HH:mm:ss.fff} → {(Status == 0 ? "no answer" : Status.ToString(System.Globalization.CultureInfo.InvariantCulture))} after {(Done - At).TotalMilliseconds:0} ms {Problem}";
}
