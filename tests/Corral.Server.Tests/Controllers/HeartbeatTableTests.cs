using Corral.Core.Api;
using Corral.Core.Tasks;
using Corral.Server.Controllers;

namespace Corral.Server.Tests.Controllers;

/// <summary>Merging what other servers relay (their digests) with the heartbeats this server receives itself.</summary>
public sealed class HeartbeatTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void UseRelayed_NodeInTwoDigests_LatestHeartbeatWinsForStatsAndReplicas()
    {
        var table = new HeartbeatTable();
        table.UseRelayed([
            new NodeDigest("s2", [Entry("n1", T0.AddSeconds(5), cpu: 50, Report("r1", 200, restarts: 4))]),
            new NodeDigest("s1", [Entry("n1", T0, cpu: 10, Report("r1", 100, restarts: 1))]),
        ]);

        var node = table.Get("n1");
        Assert.NotNull(node);
        Assert.Equal((T0.AddSeconds(5), 50.0, 900L, 1000L), (node.LastSeen, node.CpuPercent, node.DiskUsedBytes, node.DiskTotalBytes));
        Assert.Equal((200, 4), (table.GetReplica("r1")!.Pid, table.GetReplica("r1")!.Restarts));
        Assert.Null(table.GetDirect("n1"));
    }

    [Fact]
    public void Get_DirectHeartbeatNewerThanRelayed_DirectWins_OlderDirect_RelayedWins()
    {
        var table = new HeartbeatTable();
        table.Record(Heartbeat("n1", cpu: 10, Report("r1", 100, restarts: 0)), T0.AddSeconds(10));
        table.UseRelayed([new NodeDigest("s2", [Entry("n1", T0.AddSeconds(5), cpu: 50, Report("r1", 200, restarts: 3))])]);
        Assert.Equal(10.0, table.Get("n1")!.CpuPercent);
        Assert.Equal(100, table.GetReplica("r1")!.Pid);

        // The node moved to s2 after its last heartbeat here: s2's newer digest wins.
        table.UseRelayed([new NodeDigest("s2", [Entry("n1", T0.AddSeconds(15), cpu: 60, Report("r1", 300, restarts: 5))])]);
        Assert.Equal((T0.AddSeconds(15), 60.0), (table.Get("n1")!.LastSeen, table.Get("n1")!.CpuPercent));
        Assert.Equal((300, 5), (table.GetReplica("r1")!.Pid, table.GetReplica("r1")!.Restarts));
        Assert.Equal(10.0, table.GetDirect("n1")!.CpuPercent);

        // s2's digest gone (its lease expired): back to what this server heard itself.
        table.UseRelayed([]);
        Assert.Equal(10.0, table.Get("n1")!.CpuPercent);
        Assert.Equal(100, table.GetReplica("r1")!.Pid);
    }

    [Fact]
    public void Get_RelayedLivenessLaterThanDigest_KeepsTheDigestsStatsWithTheLaterLastSeen()
    {
        var table = new HeartbeatTable();
        table.UseRelayed([new NodeDigest("s2", [Entry("n1", T0, cpu: 42)])]);
        table.RecordRelayed("n1", T0.AddSeconds(3));

        var node = table.Get("n1")!;
        Assert.Equal((T0.AddSeconds(3), 42.0), (node.LastSeen, node.CpuPercent));
    }

    [Fact]
    public void Digest_HoldsNodesHeardWithinTheWindowWithTheirLastReports()
    {
        var table = new HeartbeatTable();
        var notAfter = T0.AddDays(30);
        table.Record(Heartbeat("n2", cpu: 20, Report("r2b", 22), Report("r2a", 21)), T0, notAfter);
        table.Record(Heartbeat("n1", cpu: 10, Report("r1", 11)), T0.AddSeconds(-10));
        table.Record(Heartbeat("n2", cpu: 25, Report("r2a", 23)), T0.AddSeconds(1), notAfter);

        var digest = table.Digest(T0.AddSeconds(2), TimeSpan.FromSeconds(5));

        var entry = Assert.Single(digest);
        Assert.Equal(("n2", T0.AddSeconds(1), 25.0, notAfter), (entry.Node, entry.LastSeen, entry.CpuPercent, entry.CertificateNotAfter));
        Assert.Equal([("r2a", 23)], entry.Replicas.Select(r => (r.ReplicaId, r.Pid!.Value)));
    }

    [Fact]
    public void Forget_DropsTheRelayedNodeAndReplicas()
    {
        var table = new HeartbeatTable();
        table.UseRelayed([new NodeDigest("s2", [Entry("n1", T0, cpu: 42, Report("r1", 100))])]);

        table.Forget("n1", ["r1"]);

        Assert.Null(table.Get("n1"));
        Assert.Null(table.GetReplica("r1"));
    }

    [Fact]
    public void EncodeDecode_RoundTripsAGzippedDigest()
    {
        var digest = new NodeDigest("s1", [Entry("n1", T0, cpu: 12.5, Report("r1", 4242, restarts: 7))]);

        var bytes = LivenessRelay.Encode(digest);
        var back = LivenessRelay.Decode(bytes);

        Assert.Equal((byte)0x1f, bytes[0]);
        Assert.Equal("s1", back.Server);
        var entry = Assert.Single(back.Nodes);
        Assert.Equal(("n1", T0, 12.5, 512L, 0.5, 900L, 1000L), (entry.Node, entry.LastSeen, entry.CpuPercent!.Value, entry.MemoryUsedBytes!.Value, entry.Load1!.Value, entry.DiskUsedBytes!.Value, entry.DiskTotalBytes!.Value));
        Assert.Equal((4242, 7), (entry.Replicas[0].Pid, entry.Replicas[0].Restarts));
        Assert.Throws<InvalidDataException>(() => LivenessRelay.Decode("not gzip"u8.ToArray()));
    }

    private static NodeDigestEntry Entry(string node, DateTimeOffset at, double cpu, params ReplicaReport[] replicas) =>
        new(node, at, cpu, 512, 0.5, 900, 1000, null, replicas);

    private static AgentHeartbeat Heartbeat(string node, double cpu, params ReplicaReport[] replicas) =>
        new(node, replicas, cpu, 512, 0.5, 900, 1000);

    private static ReplicaReport Report(string id, int pid, int restarts = 0) =>
        new(id, ReplicaState.Running, T0, "started", pid, null, null, 1.5, 4096, restarts);
}
