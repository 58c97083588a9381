namespace Corral.Bench;

/// <summary>The benchmark commands, one per figure group. Each prints a table and, as its last line, one JSON object.</summary>
internal static class BenchCommands
{
    public static IReadOnlyDictionary<string, Func<string[], Task<int>>> All { get; } =
        new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
        {
            ["failover"] = FailoverBench.RunAsync,
            ["heartbeats"] = HeartbeatBench.RunAsync,
            ["heartbeats-reference-server"] = HeartbeatReferenceServer.RunAsync,
            ["node-loss"] = NodeLossBench.RunAsync,
            ["logs"] = LogsBench.RunAsync,
            ["schedule"] = ScheduleBench.RunAsync,
            ["metrics"] = MetricsBench.RunAsync,
            ["stats"] = StatsBench.RunAsync,
            ["store"] = StoreBench.RunAsync,
            ["supervise"] = SuperviseBench.RunAsync,
        };
}
