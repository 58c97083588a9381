using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Corral.Testing.Lab;

/// <summary>
/// Tells from outside whether two instances of a singleton ever ran at once. Every instance (see <see cref="Script"/>)
/// ticks every 100 ms, ignoring SIGTERM so that a stop takes its whole <c>stop_timeout</c>: it sends a UDP datagram
/// with its replica id to this witness, which listens on another host (the client), and appends the kernel's clock to a
/// file named after its replica id. The datagrams are the external view (they stop arriving when its host is cut off);
/// the files are the instance's own view, readable whatever the network does (the lab's hosts share one kernel, so one
/// clock and one file system). An instance lived from its first to its last tick in either.
/// </summary>
public sealed class SingletonWitness : IDisposable
{
    /// <summary>The UDP port the witness listens on.</summary>
    public const int Port = 9911;

    private readonly Socket _socket;
    private readonly ConcurrentQueue<(string Replica, DateTimeOffset At, IPAddress From)> _heard = new();
    private readonly string _directory;
    private readonly Thread _thread;
    private volatile bool _stopped;

    private SingletonWitness(LabHost host, string directory)
    {
        Host = host;
        _directory = directory;
        _socket = Netns.Run(host.Namespace, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(host.Address, Port));
            socket.ReceiveTimeout = 200;
            return socket;
        });
        _thread = new Thread(Receive) { IsBackground = true, Name = "singleton witness" };
        _thread.Start();
    }

    /// <summary>The host the witness listens on.</summary>
    public LabHost Host { get; }

    /// <summary>Starts a witness on <paramref name="host"/>, with tick files in <paramref name="directory"/>.</summary>
    public static SingletonWitness Start(LabHost host, string directory) => new(host, directory);

    /// <summary>
    /// The singleton's program (a bash script for <c>bash -c</c>, with no double quotes, so it fits a YAML string):
    /// ticks every 100 ms to the witness at <paramref name="witness"/> and to <paramref name="directory"/>, and ignores
    /// SIGTERM (its children inherit that).
    /// </summary>
    public static string Script(IPAddress witness, string directory) =>
        "trap '' TERM; while true; do n=$(date +%s%N); echo $n >> " + directory + "/$CORRAL_TASK_ID; "
        + "echo $CORRAL_TASK_ID > /dev/udp/" + witness + "/" + Port.ToString(CultureInfo.InvariantCulture) + " 2>/dev/null; sleep 0.1; done";

    /// <summary>Every instance seen so far, by replica id: its first and last tick from either view, ordered by first tick.</summary>
    public IReadOnlyList<WitnessedInstance> Instances() =>
        [.. Observations().GroupBy(o => o.Replica, StringComparer.Ordinal).Select(g =>
        {
            var heard = g.Where(o => o.Heard).ToList();
            return new WitnessedInstance(g.Key, g.Min(o => o.At), g.Max(o => o.At),
                heard.Count == 0 ? null : heard.Min(o => o.At), heard.Count == 0 ? null : heard.Max(o => o.At),
                heard.Count == 0 ? "" : heard[0].From);
        }).OrderBy(i => i.First)];

    /// <summary>Every tick of <paramref name="replica"/>, from either view.</summary>
    public IReadOnlyList<DateTimeOffset> Ticks(string replica) => [.. Observations().Where(o => o.Replica == replica).Select(o => o.At)];

    private List<(string Replica, DateTimeOffset At, bool Heard, string From)> Observations()
    {
        var all = _heard.Select(h => (h.Replica, h.At, true, h.From.ToString())).ToList();
        foreach (var file in Directory.Exists(_directory) ? Directory.GetFiles(_directory) : [])
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (IOException)
            {
                continue;
            }
            foreach (var line in lines)
            {
                if (long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var nanos))
                {
                    all.Add((Path.GetFileName(file), DateTimeOffset.UnixEpoch.AddTicks(nanos / 100), false, ""));
                }
            }
        }
        return all;
    }

    /// <summary>
    /// The smallest gap between one instance's last tick and the next one's first (negative: they overlapped by that
    /// much); null with fewer than two instances.
    /// </summary>
    public static TimeSpan? SmallestGap(IReadOnlyList<WitnessedInstance> instances)
    {
        TimeSpan? smallest = null;
        for (var i = 1; i < instances.Count; i++)
        {
            var lastEnd = instances.Take(i).Max(x => x.Last);
            var gap = instances[i].First - lastEnd;
            smallest = smallest is null || gap < smallest ? gap : smallest;
        }
        return smallest;
    }

    /// <summary>A description of every instance, for failure messages.</summary>
    public static string Describe(IEnumerable<WitnessedInstance> instances) => string.Join('\n', instances.Select(i => i.ToString()));

    public void Dispose()
    {
        _stopped = true;
        _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
    }

    private void Receive()
    {
        var buffer = new byte[512];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stopped)
        {
            try
            {
                var n = _socket.ReceiveFrom(buffer, ref from);
                var replica = Encoding.ASCII.GetString(buffer, 0, n).Trim();
                if (replica.Length > 0)
                {
                    _heard.Enqueue((replica, DateTimeOffset.UtcNow, ((IPEndPoint)from).Address));
                }
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }
}
