using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Server.Tests.Api;

/// <summary>Node certificates over real HTTPS: revocation by <c>node rm</c>, joining again, and renewal over mTLS.</summary>
public sealed class NodeCertificateTests : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RemovedNode_IsRefusedAsRevokedOnEveryAgentEndpoint_UntilItJoinsAgainWithANewToken()
    {
        var first = await _server.JoinNodeAsync("n1");
        var agent = _server.NodeClient(first);
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(agent, "n1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(agent, "n1")).StatusCode);

        using (var admin = _server.Client(_server.AdminToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/nodes/n1")).StatusCode);
            var events = await admin.GetStringAsync("/v1/events");
            Assert.Contains("1 certificate(s) revoked", events, StringComparison.Ordinal);
        }

        // The revocation reaches the server's cache through its store watch, moments after the commit.
        await AssertRevokedAsync(() => HeartbeatAsync(agent, "n1"));
        await AssertRevokedAsync(() => RegisterAsync(agent, "n1"));
        await AssertRevokedAsync(() => agent.GetAsync("/v1/agent/assignments?node=n1&index=0&wait=1s"));
        await AssertRevokedAsync(() => RenewAsync(agent, "n1", Csr("n1").Csr));
        // A fresh connection with the same certificate is refused too (not only the pooled one).
        await AssertRevokedAsync(() => HeartbeatAsync(_server.NodeClient(first), "n1"));

        // An earlier revocation whose certificate has expired since is pruned by the next removal.
        var expired = "{\"serial\":\"0ABC\",\"node\":\"old\",\"revoked_at\":\"2020-01-01T00:00:00+00:00\",\"revoked_by\":\"key:admin\",\"not_after\":\"2020-02-01T00:00:00+00:00\"}";
        await _server.State.Store.PutAsync("/corral/revoked/0ABC", System.Text.Encoding.UTF8.GetBytes(expired));

        var again = await _server.JoinNodeAsync("n1");
        var rejoined = _server.NodeClient(again);
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(rejoined, "n1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(rejoined, "n1")).StatusCode);
        await AssertRevokedAsync(() => HeartbeatAsync(_server.NodeClient(first), "n1"));

        using (var admin = _server.Client(_server.AdminToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/nodes/n1")).StatusCode);
        }
        Assert.Null(await _server.State.Store.GetAsync("/corral/revoked/0ABC"));
        Assert.NotNull(await _server.State.Store.GetAsync("/corral/revoked/" + first.SerialNumber));
        Assert.NotNull(await _server.State.Store.GetAsync("/corral/revoked/" + again.SerialNumber));
    }

    [Fact]
    public async Task Renew_WithCurrentCertificate_IssuesANewOneForANewKeyThatWorksAndIsRevokedWithTheNode()
    {
        var first = await _server.JoinNodeAsync("n2");
        var agent = _server.NodeClient(first);
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(agent, "n2")).StatusCode);

        var (key, csr) = Csr("n2");
        _server.Own(key);
        using var response = await RenewAsync(agent, "n2", csr);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var renewed = (await response.Content.ReadFromJsonAsync(CoreJson.Default.JoinResponse))!;
        using var issued = X509Certificate2.CreateFromPem(renewed.CertificatePem);
        Assert.Equal("n2", issued.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        Assert.NotEqual(first.SerialNumber, issued.SerialNumber);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), issued.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo());
        var second = _server.WithKey(issued, key);
        var renewedAgent = _server.NodeClient(second);
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(renewedAgent, "n2")).StatusCode);

        using (var admin = _server.Client(_server.AdminToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/nodes/n2")).StatusCode);
        }
        await AssertRevokedAsync(() => HeartbeatAsync(_server.NodeClient(first), "n2"));
        await AssertRevokedAsync(() => HeartbeatAsync(_server.NodeClient(second), "n2"));
    }

    [Fact]
    public async Task Renew_ForAnotherNodeOrWithoutCertificateOrBadCsr_IsRefused()
    {
        var certificate = await _server.JoinNodeAsync("n3");
        var agent = _server.NodeClient(certificate);

        using var other = await RenewAsync(agent, "n4", Csr("n4").Csr);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        using var anonymous = _server.Client();
        using var none = await RenewAsync(anonymous, "n3", Csr("n3").Csr);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using var bad = await RenewAsync(agent, "n3", "not a csr");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("csr_pem", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task AssertRevokedAsync(Func<Task<HttpResponseMessage>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using var response = await call();
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                using var problem = JsonDocument.Parse(body);
                Assert.Equal("certificate revoked", problem.RootElement.GetProperty("title").GetString());
                Assert.Contains("join again with a new token", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"expected 401 certificate revoked, got {(int)response.StatusCode}: {body}");
            await Task.Delay(50);
        }
    }

    private static (ECDsa Key, string Csr) Csr(string node)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key, new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
    }

    internal static Task<HttpResponseMessage> RegisterAsync(HttpClient client, string node, IReadOnlyDictionary<string, string>? labels = null) =>
        client.PostAsync("/v1/agent/register", JsonContent.Create(new AgentRegistration(node, ["127.0.0.1"], 2, 1L << 30, labels ?? new Dictionary<string, string>()), CoreJson.Default.AgentRegistration));

    private static Task<HttpResponseMessage> HeartbeatAsync(HttpClient client, string node) =>
        client.PostAsync("/v1/agent/heartbeat", JsonContent.Create(new AgentHeartbeat(node, [], null, null, null), CoreJson.Default.AgentHeartbeat));

    private static Task<HttpResponseMessage> RenewAsync(HttpClient client, string node, string csr) =>
        client.PostAsync("/v1/agent/renew", JsonContent.Create(new CertificateRenewRequest(node, csr), CoreJson.Default.CertificateRenewRequest));
}
