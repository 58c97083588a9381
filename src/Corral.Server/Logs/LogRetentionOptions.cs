namespace Corral.Server.Logs;

/// <summary>How much of the replicas' logs the cluster keeps. Validate with <see cref="Validate"/>.</summary>
public sealed record LogRetentionOptions
{
    /// <value>Most bytes of log chunks kept (as stored, JSON); the oldest chunks go first. 1 MiB to 16 GiB. Default 64 MiB.</value>
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <value>Chunks whose newest line is older than this are deleted. 1 minute to 365 days. Default 7 days.</value>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <value>How often the leader enforces the limits. 1 s to 1 hour. Default 30 s.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBytes < 1024 * 1024 || MaxBytes > 16L * 1024 * 1024 * 1024)
        {
            errors.Add($"MaxBytes {MaxBytes} must be from 1 MiB to 16 GiB");
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
            throw new ArgumentException("invalid LogRetentionOptions: " + string.Join("; ", errors), "options");
        }
    }
}
