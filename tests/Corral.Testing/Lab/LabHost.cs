using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Corral.Testing.Lab;

/// <summary>One host of a <see cref="LabNetwork"/>: a network namespace with <c>eth0</c> on the lab's bridge.</summary>
public sealed class LabHost
{
    private readonly LabNetwork _lab;
    private readonly Lock _lock = new();
    private readonly HashSet<int> _started = [];

    internal LabHost(LabNetwork lab, string name, string ns, string port, IPAddress address)
    {
        _lab = lab;
        Name = name;
        Namespace = ns;
        BridgePort = port;
        Address = address;
    }

    /// <summary>h1, h2, ...</summary>
    public string Name { get; }

    /// <summary>The network namespace's name.</summary>
    public string Namespace { get; }

    /// <summary>The bridge port (in the switch namespace) eth0 is plugged into.</summary>
    public string BridgePort { get; }

    /// <summary>eth0's address (10.77.0.I).</summary>
    public IPAddress Address { get; }

    /// <summary>eth0's MAC, aa:bb:cc:dd:ee:ff.</summary>
    public string Mac { get; internal set; } = "";

    /// <summary>True while the host is cut off (its bridge port detached).</summary>
    public bool IsCutOff { get; private set; }

    /// <summary>PIDs started through <see cref="Start"/> (left for .NET's Process to reap).</summary>
    internal HashSet<int> StartedPids
    {
        get
        {
            lock (_lock)
            {
                return [.. _started];
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> in this host (<c>ip netns exec</c>), in its own session, output appended to
    /// <paramref name="outputFile"/>. Tracked: killed when the lab is disposed, and by <see cref="KillAll"/>.
    /// </summary>
    public Process Start(string fileName, IEnumerable<string> args, string outputFile, IReadOnlyDictionary<string, string>? env = null)
    {
        var process = _lab.Reaper.Start("/usr/sbin/ip", ["netns", "exec", Namespace, fileName, .. args], outputFile, env);
        lock (_lock)
        {
            _started.Add(process.Id);
        }
        return process;
    }

    /// <summary>Runs a short command in this host to completion and returns its exit code and output.</summary>
    public (int Code, string Output) Exec(string fileName, params string[] args) =>
        Shell.Run("/usr/sbin/ip", ["netns", "exec", Namespace, fileName, .. args]);

    /// <summary>The host dies: SIGKILL every process in its namespace (<c>ip netns pids</c>) in bounded rounds, until none is left.</summary>
    public void KillAll() => LabNetwork.KillNamespace(Namespace, StartedPids);

    /// <summary>The PIDs of every process in this host now.</summary>
    public IReadOnlyList<int> Pids()
    {
        var (code, output) = Shell.Run("/usr/sbin/ip", ["netns", "pids", Namespace]);
        return code != 0 ? [] : [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
    }

    /// <summary>
    /// Cuts the host off: detaches its bridge port. Its link stays up and its frames are silently dropped, as in a
    /// real partition.
    /// </summary>
    public void CutOff()
    {
        Shell.Ip("-n", _lab.Switch, "link", "set", BridgePort, "nomaster");
        IsCutOff = true;
    }

    /// <summary>Heals a cut: re-attaches the bridge port.</summary>
    public void Heal()
    {
        Shell.Ip("-n", _lab.Switch, "link", "set", BridgePort, "master", "br0");
        IsCutOff = false;
    }

    /// <summary>
    /// Isolates the host from <paramref name="addresses"/> with blackhole routes: its packets to them are dropped at
    /// once by its own kernel (a sender sees EINVAL, as behind a broken route), while the rest of the network, and
    /// their packets to it, still get through. <see cref="ClearBlackholes"/> removes them.
    /// </summary>
    public void Blackhole(IEnumerable<IPAddress> addresses)
    {
        foreach (var address in addresses)
        {
            Shell.Ip("-n", Namespace, "route", "replace", "blackhole", address + "/32");
            _blackholes.Add(address);
        }
    }

    /// <summary>Removes every blackhole route <see cref="Blackhole"/> added.</summary>
    public void ClearBlackholes()
    {
        foreach (var address in _blackholes)
        {
            Shell.Run("/usr/sbin/ip", ["-n", Namespace, "route", "del", "blackhole", address + "/32"]);
        }
        _blackholes.Clear();
    }

    private readonly List<IPAddress> _blackholes = [];

    /// <summary>True when <paramref name="address"/> is on one of this host's interfaces.</summary>
    public bool HasAddress(IPAddress address) =>
        Shell.Ip("-n", Namespace, "-4", "-o", "addr", "show").Contains(" " + address + "/", StringComparison.Ordinal);

    public override string ToString() => $"{Name} ({Address}, {Mac})";
}
