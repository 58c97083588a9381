using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;

namespace Corral.Testing.Lab;

/// <summary>
/// From one lab host, every <see cref="Interval"/> sends one write through the API at <see cref="Target"/> (the VIP):
/// <c>PUT /v1/nodes/NODE/labels</c> with a counter, on a new connection each time (so a moved VIP is followed at once),
/// and records when it was sent, the HTTP status (0: no answer within <see cref="Timeout"/>) and the problem's title.
/// </summary>
public sealed class ApiWriteProbe : IDisposable
{
    /// <summary>Time between writes.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>A write not answered within this counts as unanswered.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly List<ApiWrite> _writes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http;
    private readonly Task _loop;
    private int _disposed;

    private ApiWriteProbe(LabHost from, IPEndPoint target, X509Certificate2 ca, string token, string node)
    {
        Target = target;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectTimeout = TimeSpan.FromSeconds(3),
            // Each connection's socket is made inside the host's network namespace.
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = Netns.Run(from.Namespace, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
                try
                {
                    await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && ClusterTrust.Chains(ca, c);
        _http = new HttpClient(handler) { BaseAddress = new Uri($"https://{target}"), Timeout = Timeout };
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        _loop = Task.Run(() => LoopAsync(node));
    }

    /// <summary>Where the writes go.</summary>
    public IPEndPoint Target { get; }

    /// <summary>Starts writing to <paramref name="target"/> from <paramref name="from"/>, with the admin config of the lab's client.</summary>
    public static ApiWriteProbe Start(LabHost from, IPEndPoint target, string clientConfigPath, string node)
    {
        var config = JsonSerializer.Deserialize(File.ReadAllText(clientConfigPath), CoreJson.Default.ClientConfig)!;
        return new ApiWriteProbe(from, target, X509Certificate2.CreateFromPem(config.CaCertificatePem), config.Token, node);
    }

    /// <summary>Every write so far.</summary>
    public IReadOnlyList<ApiWrite> Writes
    {
        get
        {
            lock (_lock)
            {
                return [.. _writes];
            }
        }
    }

    /// <summary>Stops writing (safe to call more than once).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(10));
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync(string node)
    {
        var counter = 0;
        var next = DateTimeOffset.UtcNow;
        while (!_stop.IsCancellationRequested)
        {
            var at = DateTimeOffset.UtcNow;
            var status = 0;
            var title = "";
            try
            {
                var labels = new NodeLabelsRequest(new Dictionary<string, string> { ["probe"] = (counter++ % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) });
                using var response = await _http.PutAsJsonAsync($"/v1/nodes/{node}/labels", labels, CoreJson.Default.NodeLabelsRequest, _stop.Token).ConfigureAwait(false);
                status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadAsStringAsync(_stop.Token).ConfigureAwait(false);
                    try
                    {
                        using var problem = JsonDocument.Parse(body);
                        title = problem.RootElement.TryGetProperty("title", out var t) ? t.GetString() ?? "" : body;
                        if (problem.RootElement.TryGetProperty("detail", out var d))
                        {
                            title += ": " + d.GetString();
                        }
                    }
                    catch (JsonException)
                    {
                        title = body.Length > 200 ? body[..200] : body;
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or SocketException)
            {
                title = e.GetType().Name + ": " + e.Message;
            }
            lock (_lock)
            {
                _writes.Add(new ApiWrite(at, DateTimeOffset.UtcNow, status, title));
            }
            next += Interval;
            var wait = next - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            else
            {
                next = DateTimeOffset.UtcNow;
            }
        }
    }
}
