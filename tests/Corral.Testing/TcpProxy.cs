using System.Net;
using System.Net.Sockets;

namespace Corral.Testing;

/// <summary>
/// A real TCP forwarder on 127.0.0.1 between a client and one target port, for cutting a process off the network
/// without pausing it: <see cref="Cut"/> closes every open connection and makes new ones close as soon as they are
/// accepted (the client sees resets, as when a host's link dies); <see cref="Heal"/> forwards again. Bytes are copied
/// unchanged, so TLS (and mTLS) passes through end to end.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(TcpClient Client, TcpClient Upstream)> _open = [];
    private readonly Task _accepting;
    private volatile bool _cut;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Connections accepted so far (cut ones included).</summary>
    public int Accepted { get; private set; }

    /// <summary>Closes every open connection; until <see cref="Heal"/>, new connections are closed at once.</summary>
    public void Cut()
    {
        _cut = true;
        lock (_lock)
        {
            foreach (var (client, upstream) in _open)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                upstream.Dispose();
            }
            _open.Clear();
        }
    }

    /// <summary>Forwards new connections again.</summary>
    public void Heal() => _cut = false;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Accepted++;
            if (_cut)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }
            _ = Task.Run(() => ForwardAsync(client));
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            client.Dispose();
            upstream.Dispose();
            return;
        }
        lock (_lock)
        {
            if (_cut)
            {
                client.Dispose();
                upstream.Dispose();
                return;
            }
            _open.Add((client, upstream));
        }
        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            var up = CopyAsync(client.GetStream(), upstream.GetStream(), done.Token);
            var down = CopyAsync(upstream.GetStream(), client.GetStream(), done.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            await done.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Cut meanwhile.
        }
        finally
        {
            lock (_lock)
            {
                _open.Remove((client, upstream));
            }
            client.Dispose();
            upstream.Dispose();
        }
    }

    private static async Task CopyAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Cut();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
