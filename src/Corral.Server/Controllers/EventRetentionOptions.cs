namespace Corral.Server.Controllers;

/// <summary>How much of the event log the cluster keeps (docs/api.md, Events). Validate with <see cref="Validate"/>.</summary>
public sealed record EventRetentionOptions
{
    public const int DefaultMaxCount = 10_000;

    /// <value>Most events kept; the oldest (by the time in their key) go first. 100 to 1,000,000. Default 10,000.</value>
    public int MaxCount { get; init; } = DefaultMaxCount;

    /// <value>Events older than this are deleted. 1 minute to 365 days. Default 7 days.</value>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <value>How often the leader enforces the limits. 1 s to 1 hour. Default 30 s.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxCount < 100 || MaxCount > 1_000_000)
        {
            errors.Add($"MaxCount {MaxCount} must be from 100 to 1,000,000");
        }
        if (MaxAge < TimeSpan.FromMinutes(1) || MaxAge > TimeSpan.FromDays(365))
        {
            errors.Add($"MaxAge {MaxAge} must be from 1 minute to 365 days");
        }
        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromHours(1))
        {
            errors.Add($"Interval {Interval} must be from 1 s to 1 hour");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when these options are not valid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid EventRetentionOptions: " + string.Join("; ", errors), "options");
        }
    }
}
