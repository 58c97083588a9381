using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Core.Api;

namespace Corral.Client;

/// <summary>
/// The .NET client of Corral's REST API (docs/api.md). Trusts only the cluster CA of its <see cref="ClientConfig"/>
/// (no system roots), sends the config's API key, speaks HTTP/2 (HTTP/1.1 when a server offers only that) and tries
/// the config's addresses in order: a request that cannot connect, times out or gets 503 from one server is sent to
/// the next, and the last server that answered is tried first next time. When every address failed that way, the
/// whole list is tried again with back-off for <see cref="CorralClientOptions.RetryFor"/> (a failover of the servers). Thread-safe; dispose when done.
/// </summary>
/// <remarks>
/// Failed calls throw <see cref="CorralApiException"/> (the server answered with an error) or
/// <see cref="CorralConnectionException"/> (no address answered or none was trusted). Every mutation of the API is
/// idempotent, so sending one again to the next server after a timeout is safe.
/// </remarks>
public sealed partial class CorralClient : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    private readonly HttpClient _http;
    private readonly X509Certificate2Collection _trust;
    private readonly CorralClientOptions _options;
    private readonly string _token;
    private volatile int _preferred;
    private volatile string? _lastTrustFailure;

    /// <summary>Creates a client; throws <see cref="ArgumentException"/> when the config has no usable address or CA.</summary>
    public CorralClient(ClientConfig config, CorralClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _options = options ?? new CorralClientOptions();
        Addresses = [.. config.Addresses.Select(ParseAddress)];
        if (Addresses.Count == 0)
        {
            throw new ArgumentException("the client config has no server address", nameof(config));
        }
        _trust = [];
        try
        {
            _trust.ImportFromPem(config.CaCertificatePem ?? "");
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"the client config's CA certificate is not valid PEM: {e.Message}", nameof(config), e);
        }
        if (_trust.Count == 0)
        {
            throw new ArgumentException("the client config has no CA certificate (ca_certificate_pem) to trust servers with", nameof(config));
        }
        _token = config.Token ?? "";

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            EnableMultipleHttp2Connections = true,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = ValidateServerCertificate;
        _http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <summary>The server base addresses, in the order they are tried.</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>The address the next request goes to first (the last one that answered).</summary>
    public Uri PreferredAddress => Addresses[_preferred];

    /// <summary>The HTTP version of the last answer (2.0 unless a server offers only 1.1).</summary>
    internal Version? LastResponseVersion { get; private set; }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var certificate in _trust)
        {
            certificate.Dispose();
        }
    }

    /// <summary>Accepts <c>https://host:port</c> or <c>host:port</c> (https assumed).</summary>
    internal static Uri ParseAddress(string address)
    {
        var text = (address ?? "").Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "https://" + text;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new ArgumentException($"'{address}' is not a server address (expected https://HOST:PORT)", nameof(address));
        }
        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"'{address}': Corral servers speak HTTPS only (expected https://HOST:PORT)", nameof(address));
        }
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? _, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            _lastTrustFailure = "the server sent no certificate";
            return false;
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            _lastTrustFailure = $"the server's certificate ({certificate.Subject}) does not name the host that was dialled";
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuth);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain.Build(leaf))
        {
            return true;
        }
        var reasons = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        _lastTrustFailure = $"the server's certificate ({leaf.Subject}, issued by {leaf.Issuer}) is not from the cluster CA in the client config"
            + (reasons.Length > 0 ? $" ({reasons})" : "");
        return false;
    }

    /// <summary>
    /// Sends one request with failover and, when every address failed, bounded retries of the whole list
    /// (<see cref="CorralClientOptions.RetryFor"/>); returns the success response (buffered unless
    /// <paramref name="completion"/> says otherwise) or throws.
    /// </summary>
    /// <remarks>
    /// Retried are rounds where no address answered (refused, unreachable, timed out) or the ones that did answered
    /// 503 (no leader yet, quorum lost): what a failover of the servers looks like from a client. Never retried: an
    /// answer other than 503 (the server decided), or a certificate that is not from the cluster CA. Sending a request
    /// again is safe because API mutations are idempotent: a deploy of the same stack file leaves every service's spec
    /// and generation as they are and answers <c>changed: false</c> (ClusterState compares the stored spec first), a
    /// scale to the same count or a drain of a drained node changes nothing. Creating an API key or a join token is
    /// the exception: a request that timed out after the server committed it may leave one unused key or token more.
    /// </remarks>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? body, TimeSpan extraTime, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        byte[]? payload = body is null ? null : await body.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var time = _options.TimeProvider;
        var started = time.GetTimestamp();
        var backoff = _options.RetryInitialDelay;
        while (true)
        {
            var round = await SendRoundAsync(method, path, payload, extraTime, completion, cancellationToken).ConfigureAwait(false);
            if (round.Response is { } response)
            {
                return response;
            }
            var left = _options.RetryFor - time.GetElapsedTime(started);
            if (round.TrustFailure || left <= TimeSpan.Zero)
            {
                if (round.Unavailable is { } last)
                {
                    throw last;
                }
                throw new CorralConnectionException(round.Failures, round.TrustFailure);
            }
            await Task.Delay(backoff < left ? backoff : left, time, cancellationToken).ConfigureAwait(false);
            backoff = backoff * 2 < _options.RetryMaxDelay ? backoff * 2 : _options.RetryMaxDelay;
        }
    }

    /// <summary>
    /// One pass over every address, from the preferred one. Returns the first answer that is not 503 (a success, or
    /// throws its problem), else every failure; <c>Unavailable</c> is the last address's 503 problem when the last
    /// address tried answered 503.
    /// </summary>
    private async Task<(HttpResponseMessage? Response, List<string> Failures, bool TrustFailure, CorralApiException? Unavailable)> SendRoundAsync(
        HttpMethod method, string path, byte[]? payload, TimeSpan extraTime, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        var trustFailure = false;
        CorralApiException? unavailable = null;
        var start = _preferred;
        for (var attempt = 0; attempt < Addresses.Count; attempt++)
        {
            var index = (start + attempt) % Addresses.Count;
            var address = Addresses[index];
            unavailable = null;
            using var request = new HttpRequestMessage(method, new Uri(address, path))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            if (_token.Length > 0)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            }
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (payload is not null)
            {
                request.Content = new ByteArrayContent(payload);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout + extraTime);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // SocketsHttpHandler reports its connect timeout as a cancellation with a TimeoutException inside.
                failures.Add(e.InnerException is TimeoutException && !timeout.IsCancellationRequested
                    ? $"{Show(address)}: no connection within {Corral.Core.Durations.Format(_options.ConnectTimeout)}"
                    : $"{Show(address)}: no answer within {Corral.Core.Durations.Format(_options.Timeout + extraTime)}");
                continue;
            }
            catch (HttpRequestException e)
            {
                if (e.HttpRequestError == HttpRequestError.SecureConnectionError || e.InnerException is AuthenticationException)
                {
                    trustFailure = true;
                    failures.Add($"{Show(address)}: TLS handshake refused: {_lastTrustFailure ?? e.InnerException?.Message ?? e.Message}");
                }
                else
                {
                    failures.Add($"{Show(address)}: {Describe(e)}");
                }
                continue;
            }

            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                using (response)
                {
                    unavailable = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
                }
                failures.Add($"{Show(address)}: 503 {unavailable.Title}");
                continue;
            }
            _preferred = index;
            LastResponseVersion = response.Version;
            if (!response.IsSuccessStatusCode)
            {
                using (response)
                {
                    throw await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
                }
            }
            return (response, failures, trustFailure, null);
        }
        return (null, failures, trustFailure, unavailable);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, JsonTypeInfo<T> type, CancellationToken cancellationToken, TimeSpan extraTime = default)
    {
        using var response = await SendAsync(method, path, body, extraTime, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(bytes, type)
                ?? throw new CorralApiException(response.StatusCode, "unexpected answer", $"{method} {path} answered JSON null", []);
        }
        catch (JsonException e)
        {
            throw new CorralApiException(response.StatusCode, "unexpected answer", $"{method} {path} answered something that is not a {typeof(T).Name}: {e.Message}", []);
        }
    }

    private async Task SendNoContentAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
    }

    private static HttpContent Json<T>(T value, JsonTypeInfo<T> type) =>
        new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));

    private static async Task<CorralApiException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var title = response.ReasonPhrase ?? response.StatusCode.ToString();
        var detail = "";
        var errors = new List<FieldError>();
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                title = String(root, "title") ?? title;
                detail = String(root, "detail") ?? "";
                if (root.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in list.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object))
                    {
                        errors.Add(new FieldError(
                            String(item, "field") ?? "",
                            String(item, "message") ?? "",
                            String(item, "file"),
                            Int(item, "line"),
                            Int(item, "column")));
                    }
                }
            }
        }
        catch (JsonException)
        {
            detail = text.Length > 500 ? text[..500] : text;
        }
        return new CorralApiException(response.StatusCode, title, detail, errors);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    private static string Show(Uri address) => address.GetLeftPart(UriPartial.Authority);

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused (is the server running?)",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.HostNotFound or SocketError.NoData => "unknown host",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
                    _ => socket.Message,
                };
            }
        }
        return e.HttpRequestError switch
        {
            HttpRequestError.ConnectionError => "cannot connect: " + e.Message,
            HttpRequestError.NameResolutionError => "unknown host",
            _ => e.Message,
        };
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static StringBuilder Query(StringBuilder path, string name, string? value)
    {
        if (value is null)
        {
            return path;
        }
        return path.Append(path.ToString().Contains('?', StringComparison.Ordinal) ? '&' : '?').Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }
}
