using System.Net;

namespace Corral.Agent.Health;

/// <summary>Healthy when <c>GET http://127.0.0.1:{port}{path}</c> answers with a 2xx status. Redirects are not followed.</summary>
public sealed class HttpHealthProbe : IHealthProbe
{
    // One client for all probes: connections are pooled per port, and a dead pooled connection is retried once by the handler.
    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <param name="port">The port on 127.0.0.1.</param>
    /// <param name="path">The path; <c>/</c> when null or empty, and a leading <c>/</c> is added when missing.</param>
    public HttpHealthProbe(int port, string? path)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Path = string.IsNullOrEmpty(path) ? "/" : path.StartsWith('/') ? path : "/" + path;
        Uri = new Uri($"http://127.0.0.1:{port}{Path}");
    }

    public string Path { get; }

    public Uri Uri { get; }

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Uri);
            using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            return new ProbeResult(code is >= 200 and <= 299, $"HTTP {code} from GET {Path}");
        }
        catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
        {
            var status = e.HttpRequestError == HttpRequestError.ConnectionError ? "connection failed" : "request failed";
            return new ProbeResult(false, $"GET {Uri}: {status}: {e.Message}");
        }
        catch (WebException e) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, $"GET {Uri}: {e.Message}");
        }
    }
}
