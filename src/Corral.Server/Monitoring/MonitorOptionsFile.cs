using System.Text.Json.Serialization;

namespace Corral.Server.Monitoring;

/// <summary>The shape of <c>monitor.json</c> (snake_case; durations as text such as <c>30s</c>, <c>14d</c>).</summary>
public sealed record MonitorOptionsFile
{
    public string? Interval { get; init; }

    public double? DiskThresholdPercent { get; init; }

    public string? CertExpiryWarning { get; init; }

    public int? CrashLoopRestarts { get; init; }

    public string? CrashLoopWindow { get; init; }

    public string? DegradedAfter { get; init; }

    public string? LastSeenResolution { get; init; }

    public string? ClearedRetention { get; init; }

    public WebhookFile? Webhook { get; init; }

    public ExecFile? Exec { get; init; }

    /// <summary>The <c>webhook</c> object.</summary>
    public sealed record WebhookFile(string? Url, string? Timeout, int? MaxAttempts, string? Backoff, int? QueueLength);

    /// <summary>The <c>exec</c> object.</summary>
    public sealed record ExecFile(string? Command, IReadOnlyList<string>? Args, string? Timeout, int? QueueLength);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(MonitorOptionsFile))]
internal sealed partial class MonitorJson : JsonSerializerContext;
