using Corral.Core.Api;
using Corral.Core.Monitoring;

namespace Corral.Core.Tests.Monitoring;

public class HealthMonitorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static readonly StoreHealth OneMember = new(true, [new StoreMemberHealth("sqlite", true)]);

    public static TheoryData<string, MonitorInput, int, string[]> Table() => new()
    {
        { "all well", Input(), 100, [] },
        { "empty cluster", Input(nodes: [], services: []), 100, [] },
        { "one of two nodes down", Input(nodes: [Node("a"), Node("b", ready: false)]), 85, ["node.down.node.b/critical"] },
        {
            "service at 1 of 3 healthy",
            Input(services: [new ServiceHealth("web", 3, 1)]),
            80,
            ["service.degraded.service.web/warning"]
        },
        {
            "service with none healthy is critical",
            Input(services: [new ServiceHealth("web", 2, 0), new ServiceHealth("db", 1, 1)]),
            85,
            ["service.degraded.service.web/critical"]
        },
        { "service scaled to zero is fine", Input(services: [new ServiceHealth("web", 0, 0)]), 100, [] },
        {
            "crash-looping replicas: 5 each, at most 10",
            Input(replicas: [new ReplicaRestarts("web-1", "web", "a", 3), new ReplicaRestarts("web-2", "web", "a", 7), new ReplicaRestarts("web-3", "web", "a", 9), new ReplicaRestarts("web-4", "web", "a", 2)]),
            90,
            ["replica.crash_loop.replica.web-1/warning", "replica.crash_loop.replica.web-2/warning", "replica.crash_loop.replica.web-3/warning"]
        },
        { "store unreachable: score 0", Input(store: new StoreHealth(false, [], "connection refused")), 0, ["store.unreachable.store/critical"] },
        {
            "3 members, 1 down: quorum at risk",
            Input(store: new StoreHealth(true, [new StoreMemberHealth("s1", true), new StoreMemberHealth("s2", true), new StoreMemberHealth("s3", false, "timeout")])),
            85,
            ["store.member_down.store.s3/warning", "store.quorum_at_risk.store/critical"]
        },
        {
            "5 members, 1 down: margin left, no quorum alarm",
            Input(store: new StoreHealth(true, [new StoreMemberHealth("s1", true), new StoreMemberHealth("s2", true), new StoreMemberHealth("s3", true), new StoreMemberHealth("s4", true), new StoreMemberHealth("s5", false)])),
            95,
            ["store.member_down.store.s5/warning"]
        },
        {
            "3 members, 2 down: no majority",
            Input(store: new StoreHealth(true, [new StoreMemberHealth("s1", true), new StoreMemberHealth("s2", false), new StoreMemberHealth("s3", false)])),
            0,
            ["store.unreachable.store/critical", "store.member_down.store.s2/warning", "store.member_down.store.s3/warning"]
        },
        {
            "certificate within 14 days warns, expired is critical",
            Input(certificates: [Cert("cert/ca", 400), Cert("cert/server/s1", 13), Cert("cert/node/a", -1)]),
            70,
            ["cert.expiring.cert.server.s1/warning", "cert.expiring.cert.node.a/critical"]
        },
        { "certificate at 15 days is fine", Input(certificates: [Cert("cert/node/a", 15)]), 100, [] },
        {
            "disk above the threshold",
            Input(nodes: [Node("a", used: 91, total: 100), Node("b", used: 90, total: 100), Node("c", used: null, total: null)]),
            95,
            ["node.disk_full.node.a/warning"]
        },
        {
            "a down node's stale disk is not an alarm",
            Input(nodes: [Node("a"), Node("b", ready: false, used: 99, total: 100)]),
            85,
            ["node.down.node.b/critical"]
        },
        {
            "many things wrong at once: penalties add up (15+5+30+5+25)",
            Input(
                nodes: [Node("a", ready: false), Node("b", used: 95, total: 100)],
                services: [new ServiceHealth("web", 2, 0)],
                replicas: [new ReplicaRestarts("db-1", "db", "b", 5)],
                certificates: [Cert("cert/ca", -2)]),
            20,
            ["node.down.node.a/critical", "node.disk_full.node.b/warning", "service.degraded.service.web/critical", "replica.crash_loop.replica.db-1/warning", "cert.expiring.cert.ca/critical"]
        },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Evaluate_Table_ScoreAndAlarms(string name, MonitorInput input, int score, string[] alarms)
    {
        var result = HealthMonitor.Evaluate(input);

        Assert.True(score == result.Score, $"{name}: score {result.Score}, expected {score}");
        Assert.Equal(alarms.Order(StringComparer.Ordinal), result.Conditions.Select(c => $"{c.Id}/{c.Severity.ToString().ToLowerInvariant()}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Evaluate_Inputs_CountWhatTheScoreUses()
    {
        var result = HealthMonitor.Evaluate(Input(
            nodes: [Node("a"), Node("b", ready: false), Node("c", used: 95, total: 100)],
            services: [new ServiceHealth("web", 2, 2), new ServiceHealth("db", 1, 0)],
            replicas: [new ReplicaRestarts("db-1", "db", "a", 4)],
            store: new StoreHealth(true, [new StoreMemberHealth("s1", true), new StoreMemberHealth("s2", true), new StoreMemberHealth("s3", false)]),
            certificates: [Cert("cert/ca", 3)]));

        Assert.Equal(new HealthInputs(2, 3, 1, 2, 1, true, 3, 2, 0, 1, 1), result.Inputs);
    }

    [Fact]
    public void Evaluate_Messages_SayWhatToDo()
    {
        var result = HealthMonitor.Evaluate(Input(nodes: [Node("a", ready: false)], services: [new ServiceHealth("web", 1, 0)]));

        Assert.Contains(result.Conditions, c => c.Kind == HealthMonitor.NodeDown && c.Message.Contains("corral node rm a", StringComparison.Ordinal));
        Assert.Contains(result.Conditions, c => c.Kind == HealthMonitor.ServiceDegraded && c.Message.Contains("corral svc show web", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(30), result.Conditions.Single(c => c.Kind == HealthMonitor.ServiceDegraded).HoldFor);
    }

    [Fact]
    public void Evaluate_ThresholdsFromInput_AreUsed()
    {
        var thresholds = new MonitorThresholds { DiskThresholdPercent = 1, CrashLoopRestarts = 1, CertExpiryWarning = TimeSpan.FromDays(500) };
        var result = HealthMonitor.Evaluate(Input(
            nodes: [Node("a", used: 2, total: 100)],
            replicas: [new ReplicaRestarts("web-1", "web", "a", 1)],
            certificates: [Cert("cert/ca", 400)]) with { Thresholds = thresholds });

        Assert.Equal(["cert.expiring", "node.disk_full", "replica.crash_loop"], result.Conditions.Select(c => c.Kind).Order(StringComparer.Ordinal));
    }

    private static MonitorInput Input(
        IReadOnlyList<NodeHealth>? nodes = null,
        IReadOnlyList<ServiceHealth>? services = null,
        IReadOnlyList<ReplicaRestarts>? replicas = null,
        StoreHealth? store = null,
        IReadOnlyList<CertificateHealth>? certificates = null) =>
        new(Now, nodes ?? [Node("a"), Node("b")], services ?? [new ServiceHealth("web", 2, 2)], replicas ?? [], store ?? OneMember,
            certificates ?? [Cert("cert/ca", 3650)], new MonitorThresholds());

    private static NodeHealth Node(string name, bool ready = true, long? used = 10, long? total = 100) =>
        new(name, ready, Now.AddMinutes(-5), used, total);

    private static CertificateHealth Cert(string subject, int days) => new(subject, subject, Now.AddDays(days), "renew it");
}
