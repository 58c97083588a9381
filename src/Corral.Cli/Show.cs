using System.Globalization;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;

namespace Corral.Cli;

/// <summary>How values look in tables: short, unit-bearing, invariant culture.</summary>
internal static class Show
{
    public static string Bytes(long? bytes)
    {
        if (bytes is not { } value)
        {
            return "-";
        }
        string[] units = ["B", "K", "M", "G", "T"];
        var size = (double)value;
        var unit = 0;
        while (size >= 1024 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }
        return unit == 0 || size >= 100 || size == Math.Floor(size)
            ? ((long)Math.Round(size)).ToString(CultureInfo.InvariantCulture) + units[unit]
            : size.ToString("0.#", CultureInfo.InvariantCulture) + units[unit];
    }

    public static string Cores(double cores) => cores.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Percent(double? percent) =>
        percent is { } p ? p.ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    /// <summary>How long ago, e.g. <c>3s</c>, <c>5m</c>; <c>-</c> when unknown.</summary>
    public static string Ago(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } t || t == default)
        {
            return "-";
        }
        var elapsed = now - t;
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }
        var rounded = elapsed switch
        {
            { TotalMinutes: < 2 } => TimeSpan.FromSeconds(Math.Floor(elapsed.TotalSeconds)),
            { TotalHours: < 2 } => TimeSpan.FromMinutes(Math.Floor(elapsed.TotalMinutes)),
            { TotalDays: < 2 } => TimeSpan.FromHours(Math.Floor(elapsed.TotalHours)),
            _ => TimeSpan.FromDays(Math.Floor(elapsed.TotalDays)),
        };
        return Durations.Format(rounded);
    }

    public static string Labels(IReadOnlyDictionary<string, string>? labels) =>
        labels is null || labels.Count == 0 ? "-" : string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    /// <summary>
    /// The node's labels, each with where it comes from: <c>zone=b (operator; agent: a), rack=r1 (agent)</c>.
    /// </summary>
    public static string LabelSources(Node node)
    {
        if (node.Labels.Count == 0)
        {
            return "-";
        }
        return string.Join(", ", node.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l =>
        {
            var fromOperator = node.OperatorLabels.ContainsKey(l.Key);
            var fromAgent = node.AgentLabels.TryGetValue(l.Key, out var agentValue);
            var source = fromOperator
                ? fromAgent && agentValue != l.Value ? $" (operator; agent: {agentValue})" : " (operator)"
                : fromAgent ? " (agent)" : "";
            return $"{l.Key}={l.Value}{source}";
        }));
    }

    public static string NodeStatus(Node node)
    {
        var status = node.Status.ToString().ToLowerInvariant();
        if (node.Draining)
        {
            status += ",draining";
        }
        else if (!node.Eligible)
        {
            status += ",drained";
        }
        return status;
    }

    public static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>The replica's state as one word: the node-reported state once assigned, else its phase.</summary>
    public static string ReplicaState(Replica replica) =>
        replica.Phase == ReplicaPhase.Assigned && replica.State is { } state ? Lower(state) : Lower(replica.Phase);

    public static string Change(ServiceChangeKind kind) => kind switch
    {
        ServiceChangeKind.Create => "create",
        ServiceChangeKind.Update => "update",
        ServiceChangeKind.Scale => "scale",
        ServiceChangeKind.Remove => "remove",
        ServiceChangeKind.KeptNotInFile => "kept (not in file; --prune removes it)",
        _ => "unchanged",
    };
}
