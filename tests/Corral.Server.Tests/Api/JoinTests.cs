using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;

namespace Corral.Server.Tests.Api;

public sealed class JoinTests : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JoinTokenCreated> CreateTokenAsync(string? ttl = null, int? uses = null, string? role = null)
    {
        using var admin = _server.Client(_server.AdminToken);
        var response = await admin.PostAsync("/v1/tokens", ServerHost.Json(new JoinTokenCreateRequest(ttl, uses, role), CoreJson.Default.JoinTokenCreateRequest));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(CoreJson.Default.JoinTokenCreated))!;
    }

    private static string Csr(string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }

    private async Task<(HttpStatusCode Status, JoinResponse? Response, string Detail)> JoinAsync(string token, string node, string? csr = null)
    {
        using var anonymous = _server.Client();
        var response = await anonymous.PostAsync("/v1/join", ServerHost.Json(new JoinRequest(token, node, csr ?? Csr(node), null), CoreJson.Default.JoinRequest));
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? (response.StatusCode, JsonSerializer.Deserialize(text, CoreJson.Default.JoinResponse), "")
            : (response.StatusCode, null, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString() ?? "");
    }

    [Fact]
    public async Task Join_FreshToken_IssuesNodeCertificateChainedToClusterCa()
    {
        var created = await CreateTokenAsync();
        Assert.StartsWith("K10" + CaPin.Of(_server.Ca)[CaPin.Prefix.Length..] + "::" + created.Info.Id + ".", created.Token, StringComparison.Ordinal);

        var (status, joined, detail) = await JoinAsync(created.Token, "node-a");

        Assert.True(status == HttpStatusCode.OK, detail);
        using var certificate = X509Certificate2.CreateFromPem(joined!.CertificatePem);
        using var ca = X509Certificate2.CreateFromPem(joined.CaPem);
        Assert.Equal(_server.Ca.Thumbprint, ca.Thumbprint);
        Assert.Equal("node-a", certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_server.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.InRange(certificate.NotAfter - certificate.NotBefore, TimeSpan.FromDays(364), TimeSpan.FromDays(366));
    }

    [Fact]
    public async Task JoinCa_NeedsNoKey_ReturnsClusterCaWithTokenPin()
    {
        using var anonymous = _server.Client();

        var pem = await anonymous.GetStringAsync("/v1/join/ca");

        using var ca = X509Certificate2.CreateFromPem(pem);
        Assert.Equal(_server.Ca.Thumbprint, ca.Thumbprint);
        Assert.True(JoinToken.TryParse((await CreateTokenAsync()).Token, out var token, out _));
        Assert.True(CaPin.Matches(ca, token.CaPin));
    }

    [Fact]
    public async Task Join_SameTokenTwice_SecondIsRefusedAsUsed()
    {
        var created = await CreateTokenAsync();
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "node-a")).Status);

        var (status, _, detail) = await JoinAsync(created.Token, "node-b");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("already used", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_ServerRoleTokenAsAgent_RefusedAndUseKept_ServerJoinOnSqliteRefusedAsNotManaged()
    {
        var created = await CreateTokenAsync(role: "server");

        var (status, _, detail) = await JoinAsync(created.Token, "node-a");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("is for joining as server, not as agent", detail, StringComparison.Ordinal);
        using var admin = _server.Client(_server.AdminToken);
        Assert.Equal(1, Assert.Single((await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!).UsesLeft);

        using var anonymous = _server.Client();
        var response = await anonymous.PostAsync("/v1/join/server", ServerHost.Json(new ServerJoinRequest(created.Token, "s2", "https://127.0.0.1:2380", "https://127.0.0.1:2379"), CoreJson.Default.ServerJoinRequest));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("not an etcd managed by Corral", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single((await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!).UsesLeft);
    }

    [Fact]
    public async Task Join_TokenWithTwoUses_AdmitsTwoNodesThenRefuses()
    {
        var created = await CreateTokenAsync(uses: 2);
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "node-a")).Status);
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "node-b")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await JoinAsync(created.Token, "node-c")).Status);

        using var admin = _server.Client(_server.AdminToken);
        var listed = Assert.Single((await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!);
        Assert.Equal((created.Info.Id, 2, 0), (listed.Id, listed.Uses, listed.UsesLeft));
    }

    [Fact]
    public async Task Join_ConcurrentJoinsWithOneUse_ExactlyOneSucceeds()
    {
        var created = await CreateTokenAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => JoinAsync(created.Token, $"node-{i}")));

        Assert.Single(results, r => r.Status == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
    }

    [Fact]
    public async Task Join_ExpiredToken_IsRefusedAsExpired()
    {
        var created = await CreateTokenAsync(ttl: "1ms");
        for (var i = 0; i < 100 && DateTimeOffset.UtcNow <= created.Info.ExpiresAt; i++)
        {
            await Task.Delay(10);
        }

        var (status, _, detail) = await JoinAsync(created.Token, "node-a");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("expired", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_RevokedToken_IsRefusedAsRevoked()
    {
        var created = await CreateTokenAsync();
        using var admin = _server.Client(_server.AdminToken);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/tokens/{created.Info.Id}")).StatusCode);
        var listed = Assert.Single((await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!);
        Assert.NotNull(listed.RevokedAt);

        var (status, _, detail) = await JoinAsync(created.Token, "node-a");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("revoked", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("crl_0123456789ab_secret")]
    [InlineData("K10abc::0123456789ab.00")]
    public async Task Join_MalformedToken_IsRefusedAsMalformed(string token)
    {
        var (status, _, detail) = await JoinAsync(token, "node-a");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("malformed", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_WrongSecret_IsRefusedAsUnknownAndConsumesNothing()
    {
        var created = await CreateTokenAsync();
        JoinToken.TryParse(created.Token, out var token, out _);
        var forged = token with { Secret = new string('0', 64) };

        var (status, _, detail) = await JoinAsync(forged.ToString(), "node-a");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("unknown", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "node-a")).Status);
    }

    [Fact]
    public async Task Join_BadCsr_IsBadRequestAndConsumesNothing()
    {
        var created = await CreateTokenAsync();

        Assert.Equal(HttpStatusCode.BadRequest, (await JoinAsync(created.Token, "node-a", "not a csr")).Status);
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "node-a")).Status);
    }

    [Fact]
    public async Task Join_RecordsNodeJoinedEventNamingToken()
    {
        var created = await CreateTokenAsync();
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "node-a")).Status);

        using var admin = _server.Client(_server.AdminToken);
        var page = (await admin.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage))!;
        var joined = Assert.Single(page.Events, e => e.Kind == "node.joined");
        Assert.Equal("node/node-a", joined.Subject);
        Assert.Contains(created.Info.Id, joined.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/v1/tokens")]
    [InlineData("POST", "/v1/tokens")]
    [InlineData("DELETE", "/v1/tokens/x")]
    public async Task Tokens_OperatorKey_IsForbidden(string method, string path)
    {
        var key = await _server.CreateKeyAsync("ops", "operator");
        using var client = _server.Client(key);
        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "POST" ? ServerHost.Json(new JoinTokenCreateRequest(null, null, null), CoreJson.Default.JoinTokenCreateRequest) : null,
        });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task CreateToken_InvalidFields_IsBadRequestNamingEach()
    {
        using var admin = _server.Client(_server.AdminToken);
        var response = await admin.PostAsync("/v1/tokens", ServerHost.Json(new JoinTokenCreateRequest("soon", 0, "root"), CoreJson.Default.JoinTokenCreateRequest));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var fields = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["ttl", "uses", "role"], fields);
    }
}
