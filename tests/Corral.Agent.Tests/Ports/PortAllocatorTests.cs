using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Corral.Agent.Ports;
using Corral.Testing;

namespace Corral.Agent.Tests.Ports;

public class PortAllocatorTests
{
    [Fact]
    public async Task Allocate_FiftyConcurrentTasks_AllPortsDistinctAndInRange()
    {
        var allocator = new PortAllocator(21000, 21999);
        var results = new ConcurrentDictionary<string, IReadOnlyDictionary<string, int>>();

        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 50).Select(i => Task.Run(() =>
        {
            start.Wait(TimeSpan.FromSeconds(30));
            results[$"task-{i}"] = allocator.Allocate($"task-{i}", ["http", "admin"]);
        })).ToArray();
        start.Set();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        var all = results.Values.SelectMany(r => r.Values).ToList();
        Assert.Equal(100, all.Count);
        Assert.Equal(100, all.Distinct().Count());
        Assert.All(all, p => Assert.InRange(p, 21000, 21999));
        Assert.Equal(100, allocator.HeldCount);
    }

    [Fact]
    public void Allocate_StartInsideTheRange_BeginsThereAndWrapsAroundToTheFirst()
    {
        var allocator = new PortAllocator(22000, 22003, start: 22002);
        var ports = Enumerable.Range(0, 4).Select(i => allocator.Allocate($"task-{i}", ["http"])["http"]).ToList();
        Assert.Equal(4, ports.Distinct().Count());
        Assert.True(ports[0] >= 22002, $"the first port {ports[0]} should come from the start (22002) on");
        Assert.Throws<ArgumentOutOfRangeException>(() => new PortAllocator(22000, 22003, start: 22004));
    }

    [Fact]
    public void Allocate_PortBoundByAnotherListener_SkipsIt()
    {
        var busy = FreePorts.Next();
        using var listener = new TcpListener(IPAddress.Loopback, busy);
        listener.Start();
        var allocator = new PortAllocator(busy, Math.Min(busy + 50, 65535));

        var ports = allocator.Allocate("web", ["http"]);

        Assert.NotEqual(busy, ports["http"]);
        Assert.InRange(ports["http"], busy + 1, busy + 50);
    }

    [Fact]
    public void Allocate_OnlyPortIsBound_ThrowsNamingTheRange()
    {
        var busy = FreePorts.Next();
        using var listener = new TcpListener(IPAddress.Loopback, busy);
        listener.Start();
        var allocator = new PortAllocator(busy, busy);

        var error = Assert.Throws<PortsExhaustedException>(() => allocator.Allocate("web", ["http"]));

        Assert.Contains($"range {busy}-{busy}", error.Message, StringComparison.Ordinal);
        Assert.Contains("'web'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, allocator.HeldCount);
    }

    [Fact]
    public void Allocate_RangeUsedUp_ThrowsAndKeepsNothingOfThePartialRequest()
    {
        var allocator = new PortAllocator(22100, 22104);
        var first = allocator.Allocate("a", ["p1", "p2", "p3"]);
        Assert.Equal(3, first.Count);

        var error = Assert.Throws<PortsExhaustedException>(() => allocator.Allocate("b", ["q1", "q2", "q3"]));

        Assert.Contains("range 22100-22104", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, allocator.HeldCount);
        Assert.Empty(allocator.PortsOf("b"));
        var rest = allocator.Allocate("c", ["r1", "r2"]);
        Assert.Empty(rest.Values.Intersect(first.Values));
    }

    [Fact]
    public void Release_ThenAllocate_PortsAreReused()
    {
        var allocator = new PortAllocator(22200, 22201);
        var a = allocator.Allocate("a", ["x", "y"]);
        Assert.Throws<PortsExhaustedException>(() => allocator.Allocate("b", ["z"]));

        allocator.Release("a");
        var b = allocator.Allocate("b", ["z"]);

        Assert.Contains(b["z"], a.Values);
    }

    [Fact]
    public void Allocate_SameTaskAgain_KeepsItsPortsAndAddsNewNames()
    {
        var allocator = new PortAllocator(22300, 22399);
        var first = allocator.Allocate("web", ["http"]);

        var second = allocator.Allocate("web", ["http", "metrics"]);

        Assert.Equal(first["http"], second["http"]);
        Assert.NotEqual(second["http"], second["metrics"]);
        Assert.Equal(2, allocator.HeldCount);
    }

    [Fact]
    public void Reserve_PortsOfARunningTask_AreNotHandedOut()
    {
        var allocator = new PortAllocator(22400, 22402);
        allocator.Reserve("old", new Dictionary<string, int> { ["http"] = 22400, ["admin"] = 22401 });

        var ports = allocator.Allocate("new", ["http"]);

        Assert.Equal(22402, ports["http"]);
        Assert.Equal(22400, allocator.PortsOf("old")["http"]);
    }

    [Fact]
    public void Reserve_PortHeldByAnotherTask_Throws()
    {
        var allocator = new PortAllocator(22500, 22510);
        var held = allocator.Allocate("a", ["http"]);

        var error = Assert.Throws<InvalidOperationException>(() =>
            allocator.Reserve("b", new Dictionary<string, int> { ["http"] = held["http"] }));

        Assert.Contains("task 'a'", error.Message, StringComparison.Ordinal);
        Assert.Empty(allocator.PortsOf("b"));
    }

    [Fact]
    public void Allocate_DuplicateName_Throws()
    {
        var allocator = new PortAllocator(22600, 22610);

        Assert.Throws<ArgumentException>(() => allocator.Allocate("a", ["http", "http"]));
    }

    [Fact]
    public void ToEnvironment_NamedPorts_FirstIsPortAndNamesAreSanitised()
    {
        var ports = new Dictionary<string, int> { ["http"] = 20001, ["admin-api"] = 20002, ["grpc.v2"] = 20003 };

        var env = PortAllocator.ToEnvironment(["http", "admin-api", "grpc.v2"], ports);

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["PORT"] = "20001",
                ["CORRAL_PORT_HTTP"] = "20001",
                ["CORRAL_PORT_ADMIN_API"] = "20002",
                ["CORRAL_PORT_GRPC_V2"] = "20003",
            },
            env);
    }

    [Fact]
    public void ToEnvironment_NoNames_IsEmpty() =>
        Assert.Empty(PortAllocator.ToEnvironment([], new Dictionary<string, int>()));

    [Fact]
    public void ToEnvironment_NameWithoutPort_Throws() =>
        Assert.Throws<ArgumentException>(() => PortAllocator.ToEnvironment(["http"], new Dictionary<string, int>()));
}
