using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;

namespace Corral.Agent.ControlPlane;

/// <summary>
/// Joins this machine to a cluster with a join token: checks the server's CA against the token's pin before trusting
/// anything, sends a CSR for a key that never leaves the machine, and returns the identity the server issued.
/// </summary>
public static class NodeJoiner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Fetches the cluster CA from <paramref name="server"/> (<c>GET /v1/join/ca</c>) without trusting the server yet,
    /// and returns it only when its pin is <paramref name="pin"/> and the certificate the server presented in that very
    /// TLS connection is issued by it. Throws <see cref="JoinException"/> otherwise (another cluster, or someone in
    /// between).
    /// </summary>
    public static async Task<X509Certificate2> FetchPinnedCaAsync(Uri server, string pin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        X509Certificate2? leaf = null;
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // One connection, so the certificate checked below is the one that carried the answer.
            MaxConnectionsPerServer = 1,
            SslOptions = new SslClientAuthenticationOptions
            {
                // Nothing is trusted yet: keep what the server presents, then check it against the pin below.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    leaf?.Dispose();
                    leaf = certificate is null ? null : new X509Certificate2(certificate);
                    return true;
                },
            },
        };
        using var http = new HttpClient(handler) { Timeout = Timeout };
        string pem;
        try
        {
            using var response = await http.GetAsync(new Uri(server, "v1/join/ca"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new JoinException($"the server at {server} did not give its CA (HTTP {(int)response.StatusCode}): is it a Corral server?", null);
            }
            pem = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new JoinException($"cannot reach {server}: {e.Message}", null, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new JoinException($"cannot reach {server}: no answer within {Timeout.TotalSeconds:0} s", null, e);
        }
        try
        {
            X509Certificate2 ca;
            try
            {
                ca = X509Certificate2.CreateFromPem(pem);
            }
            catch (CryptographicException e)
            {
                throw new JoinException($"the server at {server} answered with no CA certificate: {e.Message}", null, e);
            }
            if (!CaPin.Matches(ca, pin))
            {
                ca.Dispose();
                throw new JoinException($"the server at {server} does not present the cluster CA the token names ({pin}): refusing to trust it");
            }
            if (leaf is null || !ClusterTrust.Chains(ca, leaf))
            {
                ca.Dispose();
                throw new JoinException($"the server at {server} names the pinned CA but its own certificate is not issued by it: refusing to trust it");
            }
            return ca;
        }
        finally
        {
            leaf?.Dispose();
        }
    }

    /// <summary>How long a join answered 503 (the cluster's store briefly without a quorum or a leader) is asked again.</summary>
    public static readonly TimeSpan UnavailableRetryFor = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Joins <paramref name="server"/> as node <paramref name="nodeName"/> with <paramref name="token"/> and returns
    /// the identity to store. A 503 is asked again every second for up to <see cref="UnavailableRetryFor"/>, each
    /// time reported through <paramref name="retrying"/>. A store without a quorum refuses the join before the token
    /// is redeemed, so the token is still unused and the next attempt joins; a 503 from issuing the certificate
    /// after the redemption ends with the server saying the token is used up (join again with a new token). Throws
    /// <see cref="JoinException"/> with the server's reason when it refuses.
    /// </summary>
    public static async Task<NodeIdentity> JoinAsync(Uri server, JoinToken token, string nodeName, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken, Action<string>? retrying = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(token);
        using var ca = await FetchPinnedCaAsync(server, token.CaPin, cancellationToken).ConfigureAwait(false);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={nodeName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var http = CreatePinnedClient(ca, Timeout);
        var body = JsonSerializer.Serialize(new JoinRequest(token.ToString(), nodeName, csr, labels), CoreJson.Default.JoinRequest);
        using var response = await PostJoinAsync(http, new Uri(server, "v1/join"), () => new StringContent(body, Encoding.UTF8, "application/json"), retrying, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new JoinException($"the server refused the join ({(int)response.StatusCode}): {Detail(text)}", (int)response.StatusCode);
        }
        var joined = JsonSerializer.Deserialize(text, CoreJson.Default.JoinResponse)
            ?? throw new JoinException("the server answered the join with an empty body");
        using var issuedCa = X509Certificate2.CreateFromPem(joined.CaPem);
        if (!CaPin.Matches(issuedCa, token.CaPin))
        {
            throw new JoinException("the server answered with another CA than the token names: refusing it");
        }
        return new NodeIdentity(nodeName, [server], joined.CertificatePem, key.ExportPkcs8PrivateKeyPem(), joined.CaPem, labels);
    }

    /// <summary>An HTTP client that trusts only servers whose certificate <paramref name="ca"/> issued.</summary>
    public static HttpClient CreatePinnedClient(X509Certificate2 ca, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && ClusterTrust.Chains(ca, c),
            },
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = timeout };
    }

    /// <summary>
    /// Posts a join (<paramref name="content"/> makes each attempt's body) and, while it is answered 503 (the
    /// cluster's store without a quorum for now, which refuses the join before anything is written), asks again every
    /// second for up to <see cref="UnavailableRetryFor"/>, reporting each retry through <paramref name="retrying"/>.
    /// Returns the last answer; the caller disposes it.
    /// </summary>
    public static async Task<HttpResponseMessage> PostJoinAsync(HttpClient http, Uri url, Func<HttpContent> content, Action<string>? retrying, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(content);
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var response = await http.PostAsync(url, content(), cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable || TimeProvider.System.GetElapsedTime(started) >= UnavailableRetryFor)
            {
                return response;
            }
            var detail = Detail(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            response.Dispose();
            retrying?.Invoke($"{url.GetLeftPart(UriPartial.Authority)} cannot record the join now (503: {detail}); asking again in 1 s, for up to {UnavailableRetryFor.TotalSeconds:0} s");
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Detail(string problem)
    {
        try
        {
            using var document = JsonDocument.Parse(problem);
            return document.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? problem : problem;
        }
        catch (JsonException)
        {
            return problem;
        }
    }
}
