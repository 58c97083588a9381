using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.State;
using Corral.Testing;

namespace Corral.Server.Tests.Api;

/// <summary>
/// A node's identity from the join to its removal, over real HTTPS with real CSRs, on each store backend: the join
/// is one store transaction, and <c>DELETE /v1/nodes/{name}</c> revokes a node that joined but never registered.
/// </summary>
public abstract class NodeIdentityTests : IAsyncLifetime
{
    private protected ServerHost Server { get; private set; } = null!;

    private protected abstract Task<ServerHost> StartServerAsync();

    public async Task InitializeAsync() => Server = await StartServerAsync();

    public virtual async Task DisposeAsync() => await Server.DisposeAsync();

    [Fact]
    public async Task NodeRm_JoinedButNeverRegistered_RevokesItsCertificate_WhichCannotRegisterLater()
    {
        var certificate = await Server.JoinNodeAsync("lurker");
        using var admin = Server.Client(Server.AdminToken);

        using (var removed = await admin.DeleteAsync("/v1/nodes/lurker"))
        {
            Assert.True(removed.StatusCode == HttpStatusCode.NoContent, await removed.Content.ReadAsStringAsync());
        }

        Assert.NotNull(await Server.State.Store.GetAsync(Keys.RevokedCertificate(certificate.SerialNumber)));
        Assert.Null(await Server.State.Store.GetAsync(Keys.NodeCertificate("lurker")));
        Assert.Contains("1 certificate(s) revoked", await admin.GetStringAsync("/v1/events"), StringComparison.Ordinal);
        var agent = Server.NodeClient(certificate);
        await Eventually.ValueAsync(async () =>
        {
            using var response = await NodeCertificateTests.RegisterAsync(agent, "lurker");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return problem.RootElement.GetProperty("title").GetString() == "certificate revoked" ? "revoked" : null;
        }, TimeSpan.FromSeconds(10), "the registration with the revoked certificate to be refused");
        Assert.Null(await Server.State.GetNodeAsync("lurker", CancellationToken.None));

        // Removed once: now unknown, like a name that never joined (404: 'corral node rm' exits 3), and nothing changes.
        var before = await Server.CallerStateAsync();
        using (var again = await admin.DeleteAsync("/v1/nodes/lurker"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }
        using (var never = await admin.DeleteAsync("/v1/nodes/never-joined"))
        {
            Assert.Equal(HttpStatusCode.NotFound, never.StatusCode);
        }
        Assert.Equal(before, await Server.CallerStateAsync());
    }

    [Fact]
    public async Task Join_NameThatHoldsAnUnexpiredCertificate_IsConflictAndConsumesNothing_UntilTheNodeIsRemoved()
    {
        await Server.JoinNodeAsync("twice");
        using var admin = Server.Client(Server.AdminToken);
        var created = await CreateTokenAsync(admin);

        var (status, detail) = await JoinAsync(created.Token, "twice");

        Assert.True(status == HttpStatusCode.Conflict, detail);
        Assert.Contains("corral node rm twice", detail, StringComparison.Ordinal);
        Assert.Equal(1, (await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!.Single(t => t.Id == created.Info.Id).UsesLeft);

        using (var removed = await admin.DeleteAsync("/v1/nodes/twice"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "twice")).Status);
    }

    [Fact]
    public async Task Join_TokenUseCertificateRecordAndEvent_AreOneStoreTransaction()
    {
        using var admin = Server.Client(Server.AdminToken);
        var created = await CreateTokenAsync(admin);

        Assert.Equal(HttpStatusCode.OK, (await JoinAsync(created.Token, "atomic")).Status);

        var token = await Server.State.Store.GetAsync(Keys.JoinToken(created.Info.Id));
        var certificates = await Server.State.Store.GetAsync(Keys.NodeCertificate("atomic"));
        Assert.NotNull(token);
        Assert.NotNull(certificates);
        Assert.Equal(token.ModRevision, certificates.ModRevision);
        var joined = (await admin.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage))!.Events.Single(e => e.Kind == "node.joined" && e.Subject == "node/atomic");
        Assert.Equal(token.ModRevision, joined.Revision);
    }

    [Fact]
    public async Task Join_ConcurrentJoinsOfOneName_OneCertificateIsIssued_TheOthersAreRefusedWithTheirTokensKept()
    {
        using var admin = Server.Client(Server.AdminToken);
        var tokens = new List<JoinTokenCreated>();
        for (var i = 0; i < 4; i++)
        {
            tokens.Add(await CreateTokenAsync(admin));
        }

        var results = await Task.WhenAll(tokens.Select(t => JoinAsync(t.Token, "race")));

        Assert.Single(results, r => r.Status == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r => Assert.True(r.Status == HttpStatusCode.Conflict, r.Detail));
        var listed = (await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!;
        Assert.Equal(3, listed.Count(t => t.UsesLeft == 1));
        var record = await Server.State.Store.GetAsync(Keys.NodeCertificate("race"));
        using var parsed = JsonDocument.Parse(record!.Value);
        Assert.Single(parsed.RootElement.GetProperty("certificates").EnumerateArray());
    }


    private static async Task<JoinTokenCreated> CreateTokenAsync(HttpClient admin)
    {
        using var created = await admin.PostAsync("/v1/tokens", ServerHost.Json(new JoinTokenCreateRequest(null, 1, null), CoreJson.Default.JoinTokenCreateRequest));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync(CoreJson.Default.JoinTokenCreated))!;
    }

    private async Task<(HttpStatusCode Status, string Detail)> JoinAsync(string token, string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var anonymous = Server.Client();
        using var response = await anonymous.PostAsync("/v1/join", ServerHost.Json(new JoinRequest(token, node, csr, null), CoreJson.Default.JoinRequest));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}

public sealed class NodeIdentitySqliteTests : NodeIdentityTests
{
    private protected override Task<ServerHost> StartServerAsync() => ServerHost.StartAsync();
}

public sealed class NodeIdentityEtcdTests : NodeIdentityTests
{
    private EtcdCluster? _etcd;

    private protected override async Task<ServerHost> StartServerAsync()
    {
        _etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return await ServerHost.StartAsync(StoreConfig.Parse("etcd://" + new Uri(_etcd.ClientUrls[0]).Authority, tls: false));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }
}
