using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Corral.Agent.Ports;

/// <summary>
/// Hands out TCP ports from a range on this node to tasks' named ports. Thread-safe.
/// </summary>
/// <remarks>
/// A port is never handed out twice while held, and never handed out while anything on the node has it bound:
/// each candidate is bound briefly (no listen) on 127.0.0.1 and on 0.0.0.0 before it is given out. Candidates are
/// tried round-robin from where the last allocation stopped, so a just-released port is reused last.
/// </remarks>
public sealed class PortAllocator
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, int>> _byTask = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _owners = [];
    private int _next;

    /// <param name="first">First port of the range (inclusive).</param>
    /// <param name="last">Last port of the range (inclusive).</param>
    /// <param name="start">
    /// Where the round-robin begins (within the range); default <paramref name="first"/>. Agents start at a random
    /// port, so that several agents on one machine (tests, or a node running two) rarely probe the same port at once.
    /// </param>
    public PortAllocator(int first = 20000, int last = 32767, int? start = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(first, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(last, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(last, first);
        First = first;
        Last = last;
        _next = start ?? first;
        ArgumentOutOfRangeException.ThrowIfLessThan(_next, first, nameof(start));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_next, last, nameof(start));
    }

    /// <summary>First port of the range.</summary>
    public int First { get; }

    /// <summary>Last port of the range.</summary>
    public int Last { get; }

    /// <summary>Ports currently held, over all tasks.</summary>
    public int HeldCount
    {
        get
        {
            lock (_lock)
            {
                return _owners.Count;
            }
        }
    }

    /// <summary>
    /// Gives <paramref name="taskId"/> one port per name. Names the task already holds keep their port, so calling
    /// this again for a restarted task returns the same ports. All or nothing: on failure nothing new is held.
    /// </summary>
    /// <exception cref="PortsExhaustedException">No free port is left in the range; the message names it.</exception>
    public IReadOnlyDictionary<string, int> Allocate(string taskId, IReadOnlyList<string> names)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentNullException.ThrowIfNull(names);
        lock (_lock)
        {
            _byTask.TryGetValue(taskId, out var held);
            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            var taken = new List<int>();
            foreach (var name in names)
            {
                ArgumentException.ThrowIfNullOrEmpty(name, nameof(names));
                if (result.ContainsKey(name))
                {
                    throw new ArgumentException($"port name '{name}' appears twice", nameof(names));
                }
                if (held is not null && held.TryGetValue(name, out var existing))
                {
                    result[name] = existing;
                    continue;
                }
                var port = FindFree();
                if (port is null)
                {
                    foreach (var p in taken)
                    {
                        _owners.Remove(p);
                    }
                    throw new PortsExhaustedException(
                        $"no free port in the range {First}-{Last} for task '{taskId}': {_owners.Count} held by tasks, the rest bound by other processes");
                }
                _owners[port.Value] = taskId;
                taken.Add(port.Value);
                result[name] = port.Value;
            }

            if (held is null)
            {
                _byTask[taskId] = new Dictionary<string, int>(result, StringComparer.Ordinal);
            }
            else
            {
                foreach (var (name, port) in result)
                {
                    held[name] = port;
                }
            }
            return result;
        }
    }

    /// <summary>
    /// Records that <paramref name="taskId"/> holds <paramref name="ports"/> (e.g. a task found running after an
    /// agent restart). The ports are not bind-checked: the task itself is expected to have them bound.
    /// </summary>
    /// <exception cref="InvalidOperationException">A port is held by another task.</exception>
    public void Reserve(string taskId, IReadOnlyDictionary<string, int> ports)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentNullException.ThrowIfNull(ports);
        lock (_lock)
        {
            foreach (var (name, port) in ports)
            {
                if (_owners.TryGetValue(port, out var owner) && owner != taskId)
                {
                    throw new InvalidOperationException($"port {port} ('{name}') of task '{taskId}' is already held by task '{owner}'");
                }
            }
            if (!_byTask.TryGetValue(taskId, out var held))
            {
                held = new Dictionary<string, int>(StringComparer.Ordinal);
                _byTask[taskId] = held;
            }
            foreach (var (name, port) in ports)
            {
                if (held.TryGetValue(name, out var previous) && previous != port)
                {
                    _owners.Remove(previous);
                }
                held[name] = port;
                _owners[port] = taskId;
            }
        }
    }

    /// <summary>Frees every port <paramref name="taskId"/> holds; a no-op for an unknown task.</summary>
    public void Release(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        lock (_lock)
        {
            if (_byTask.Remove(taskId, out var held))
            {
                foreach (var port in held.Values)
                {
                    _owners.Remove(port);
                }
            }
        }
    }

    /// <summary>The ports <paramref name="taskId"/> holds, by name; empty for an unknown task.</summary>
    public IReadOnlyDictionary<string, int> PortsOf(string taskId)
    {
        lock (_lock)
        {
            return _byTask.TryGetValue(taskId, out var held)
                ? new Dictionary<string, int>(held, StringComparer.Ordinal)
                : new Dictionary<string, int>(StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// The environment a task gets for its ports: <c>PORT</c> is the first name's port, and each name <c>n</c> gives
    /// <c>CORRAL_PORT_N</c> with <c>n</c> upper-cased and every character other than A-Z and 0-9 replaced by <c>_</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ToEnvironment(IReadOnlyList<string> names, IReadOnlyDictionary<string, int> ports)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(ports);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (!ports.TryGetValue(names[i], out var port))
            {
                throw new ArgumentException($"no port allocated for name '{names[i]}'", nameof(ports));
            }
            var value = port.ToString(CultureInfo.InvariantCulture);
            if (i == 0)
            {
                env["PORT"] = value;
            }
            env["CORRAL_PORT_" + EnvName(names[i])] = value;
        }
        return env;
    }

    private static string EnvName(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            var upper = char.ToUpperInvariant(c);
            builder.Append(char.IsAsciiLetterUpper(upper) || char.IsAsciiDigit(upper) ? upper : '_');
        }
        return builder.ToString();
    }

    private int? FindFree()
    {
        var size = Last - First + 1;
        for (var i = 0; i < size; i++)
        {
            var port = _next;
            _next = port == Last ? First : port + 1;
            if (!_owners.ContainsKey(port) && CanBind(port))
            {
                return port;
            }
        }
        return null;
    }

    private static bool CanBind(int port) =>
        CanBind(IPAddress.Loopback, port) && CanBind(IPAddress.Any, port);

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.ExclusiveAddressUse = true;
            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
