using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Corral.Core.Security;

namespace Corral.Testing.Lab;

/// <summary>
/// From one lab host, every <see cref="Interval"/> opens a new TCP connection to a Corral server's HTTPS port (through
/// the VIP), completes TLS against the cluster CA and sends <c>GET /readyz</c> (answered 200 only while the server
/// reaches its store). Each attempt records whether the TCP connection was accepted and whether the API answered 200:
/// the gaps in the first are the VIP's failover time, the gaps in the second the API's unavailability.
/// </summary>
public sealed class ApiAnswerProbe : IDisposable
{
    /// <summary>Time between attempts.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>An attempt that has not connected within this counts as refused; one with no HTTP answer within <see cref="AnswerTimeout"/> as unavailable.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>How long an accepted connection may take to answer.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly List<ApiProbeAttempt> _attempts = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    private ApiAnswerProbe(LabHost from, IPEndPoint target, X509Certificate2 ca)
    {
        _thread = Netns.Start(from.Namespace, () => Loop(target, ca));
    }

    /// <summary>Starts probing <paramref name="target"/> from <paramref name="from"/>, trusting only <paramref name="ca"/>.</summary>
    public static ApiAnswerProbe Start(LabHost from, IPEndPoint target, X509Certificate2 ca) => new(from, target, ca);

    /// <summary>Every attempt so far.</summary>
    public IReadOnlyList<ApiProbeAttempt> Attempts
    {
        get
        {
            lock (_lock)
            {
                return [.. _attempts];
            }
        }
    }

    /// <summary>
    /// The stretch without a success (<paramref name="success"/>) that contains <paramref name="at"/>: from the last
    /// success at or before it to the first success after it; null when there is none after it yet.
    /// </summary>
    public TimeSpan? GapAround(DateTimeOffset at, Func<ApiProbeAttempt, bool> success)
    {
        var attempts = Attempts;
        var after = attempts.FirstOrDefault(a => a.At > at && success(a));
        if (after is null)
        {
            return null;
        }
        var before = attempts.LastOrDefault(a => a.At <= at && success(a));
        return after.At - (before?.At ?? at);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void Loop(IPEndPoint target, X509Certificate2 ca)
    {
        var request = Encoding.ASCII.GetBytes($"GET /readyz HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
        var buffer = new byte[1024];
        ProbeLoop.Run(Interval, _stop.Token, () =>
        {
            var at = DateTimeOffset.UtcNow;
            var connected = false;
            var status = 0;
            try
            {
                // Created on this thread: the socket belongs to the probe host's network namespace.
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.LingerState = new LingerOption(true, 0);
                using (var connect = new CancellationTokenSource(ConnectTimeout))
                {
                    socket.ConnectAsync(target, connect.Token).AsTask().GetAwaiter().GetResult();
                }
                connected = true;
                using var answer = new CancellationTokenSource(AnswerTimeout);
                using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false, (_, certificate, _, _) => certificate is X509Certificate2 c && ClusterTrust.Chains(ca, c));
                tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = target.Address.ToString() }, answer.Token).GetAwaiter().GetResult();
                tls.WriteAsync(request, answer.Token).AsTask().GetAwaiter().GetResult();
                var read = 0;
                while (read < buffer.Length)
                {
                    var n = tls.ReadAsync(buffer.AsMemory(read), answer.Token).AsTask().GetAwaiter().GetResult();
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
                // "HTTP/1.1 200 OK"
                var line = Encoding.ASCII.GetString(buffer, 0, read).Split('\n')[0];
                var parts = line.Split(' ');
                if (parts.Length >= 2 && int.TryParse(parts[1], out var code))
                {
                    status = code;
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException or System.Security.Authentication.AuthenticationException)
            {
            }
            lock (_lock)
            {
                _attempts.Add(new ApiProbeAttempt(at, connected, status));
            }
        });
    }
}
