using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Corral.Testing.Lab;

/// <summary>
/// From one lab host, opens a new TCP connection to an address every <see cref="Interval"/> (20 ms) and records who
/// answered (the first line the server sends, e.g. its host name) or that nobody did within the attempt's timeout.
/// Failover time is the gap between answers. <see cref="StartConnect"/> probes a server that does not speak first (an
/// HTTPS API): an attempt that connects within the timeout counts as the answer <c>connected</c>.
/// </summary>
public sealed class TcpAnswerProbe : IDisposable
{
    /// <summary>Time between attempts.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary>An attempt that has not connected and read a line within this is a failure.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(200);

    private readonly Lock _lock = new();
    private readonly List<(DateTimeOffset At, string? Answer)> _attempts = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    private readonly bool _connectOnly;

    private TcpAnswerProbe(LabHost from, IPEndPoint target, bool connectOnly = false)
    {
        _connectOnly = connectOnly;
        _thread = Netns.Start(from.Namespace, () => Loop(target));
    }

    /// <summary>Starts probing <paramref name="target"/> from <paramref name="from"/>.</summary>
    public static TcpAnswerProbe Start(LabHost from, IPEndPoint target) => new(from, target);

    /// <summary>Starts probing <paramref name="target"/> from <paramref name="from"/>; a TCP connection is the answer (<c>connected</c>).</summary>
    public static TcpAnswerProbe StartConnect(LabHost from, IPEndPoint target) => new(from, target, connectOnly: true);

    /// <summary>Every attempt so far: when it started and who answered (null: no answer).</summary>
    public IReadOnlyList<(DateTimeOffset At, string? Answer)> Attempts
    {
        get
        {
            lock (_lock)
            {
                return [.. _attempts];
            }
        }
    }

    /// <summary>The answer of the last attempt, or null.</summary>
    public string? Last
    {
        get
        {
            lock (_lock)
            {
                return _attempts.Count == 0 ? null : _attempts[^1].Answer;
            }
        }
    }

    /// <summary>
    /// The longest stretch without an answer that contains <paramref name="at"/>: from the last answer at or before it
    /// to the first answer after it; null when there is no answer after it yet.
    /// </summary>
    public (TimeSpan Gap, string? Before, string After)? GapAround(DateTimeOffset at)
    {
        var attempts = Attempts;
        var before = attempts.LastOrDefault(a => a.At <= at && a.Answer is not null);
        var after = attempts.FirstOrDefault(a => a.At > at && a.Answer is not null);
        if (after.Answer is null)
        {
            return null;
        }
        var from = before.Answer is null ? at : before.At;
        return (after.At - from, before.Answer, after.Answer);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void Loop(IPEndPoint target)
    {
        var buffer = new byte[256];
        ProbeLoop.Run(Interval, _stop.Token, () =>
        {
            var at = DateTimeOffset.UtcNow;
            string? answer = null;
            try
            {
                // Created on this thread: the socket belongs to the probe host's network namespace. Connect and read
                // with plain system calls on this thread (non-blocking connect, poll, blocking receive with a
                // timeout), never through the thread pool: a busy test process must not turn into failed attempts.
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.LingerState = new LingerOption(true, 0);
                var deadline = Stopwatch.StartNew();
                if (Connect(socket, target))
                {
                    answer = _connectOnly ? "connected" : ReadLine(socket, buffer, deadline);
                }
            }
            catch (SocketException)
            {
            }
            lock (_lock)
            {
                _attempts.Add((at, answer));
            }
        });
    }

    /// <summary>Connects within <see cref="AttemptTimeout"/>; false when refused, unreachable or not answered in time.</summary>
    private static bool Connect(Socket socket, IPEndPoint target)
    {
        socket.Blocking = false;
        try
        {
            socket.Connect(target);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
        }
        if (!socket.Poll((int)AttemptTimeout.TotalMicroseconds, SelectMode.SelectWrite))
        {
            return false;
        }
        var error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        socket.Blocking = true;
        return error == 0;
    }

    private static string? ReadLine(Socket socket, byte[] buffer, Stopwatch deadline)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var left = AttemptTimeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }
            socket.ReceiveTimeout = Math.Max(1, (int)left.TotalMilliseconds);
            var n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
            if (n == 0)
            {
                break;
            }
            read += n;
            if (Array.IndexOf(buffer, (byte)'\n', 0, read) >= 0)
            {
                break;
            }
        }
        var text = Encoding.ASCII.GetString(buffer, 0, read).Trim();
        return text.Length > 0 ? text : null;
    }
}
