using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Server.Tests.Api;

/// <summary>
/// The name rules (src/Corral.Core/Names.cs) at every API entry point that creates a named object, over real HTTPS:
/// a name that breaks its rule is 400 naming the field, and nothing in the store changes.
/// </summary>
public sealed class NameRuleTests : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string> BadNodeNames => new()
    {
        ".", "..", ".hidden", "-rf", "_x", "", "a b", "a/b", "../x", "a\nb", "a\0b", "a\tb", "a\u007fb", "a\u0085b", "a\u2028b", "é", new string('a', 65),
    };

    [Fact]
    public void ApiKeyRoles_AreTheRoleEnumLowerCased()
    {
        Assert.Equal(Names.ApiKeyRoles, Enum.GetNames<Corral.Server.Security.Role>().Select(r => r.ToLowerInvariant()));
    }

    [Theory]
    [MemberData(nameof(BadNodeNames))]
    public async Task Join_NodeNameBreakingTheRule_Is400NamingNode_AndConsumesNothing(string name)
    {
        using var admin = _server.Client(_server.AdminToken);
        var token = await CreateTokenAsync(admin);
        var before = await _server.CallerStateAsync();

        using var anonymous = _server.Client();
        using var response = await anonymous.PostAsync("/v1/join", ServerHost.Json(new JoinRequest(token, name, Csr("ok"), null), CoreJson.Default.JoinRequest));

        await AssertBadRequestAsync(response, "node");
        Assert.Equal(before, await _server.CallerStateAsync());
        Assert.Equal(1, Assert.Single((await admin.GetFromJsonAsync("/v1/tokens", CoreJson.Default.ListJoinTokenView))!).UsesLeft);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("node-1.example_z")]
    [InlineData("Web3")]
    public async Task Join_NodeNameWithinTheRule_IsAccepted(string name)
    {
        using var admin = _server.Client(_server.AdminToken);
        var token = await CreateTokenAsync(admin);
        using var anonymous = _server.Client();

        using var response = await anonymous.PostAsync("/v1/join", ServerHost.Json(new JoinRequest(token, name, Csr(name), null), CoreJson.Default.JoinRequest));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var longest = new string('n', 64);
        using var atLimit = await anonymous.PostAsync("/v1/join", ServerHost.Json(new JoinRequest(await CreateTokenAsync(admin), longest, Csr("x"), null), CoreJson.Default.JoinRequest));
        Assert.True(atLimit.StatusCode == HttpStatusCode.OK, await atLimit.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(BadNodeNames))]
    public async Task ServerJoin_NameBreakingTheRule_Is400NamingName(string name)
    {
        using var admin = _server.Client(_server.AdminToken);
        var token = await CreateTokenAsync(admin, "server");
        var before = await _server.CallerStateAsync();
        using var anonymous = _server.Client();

        using var response = await anonymous.PostAsync("/v1/join/server", ServerHost.Json(new ServerJoinRequest(token, name, "https://127.0.0.1:2380", "https://127.0.0.1:2379"), CoreJson.Default.ServerJoinRequest));

        await AssertBadRequestAsync(response, "name");
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a b")]
    [InlineData(" ")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("-x")]
    [InlineData("key:admin")]
    [InlineData("a\u2029b")]
    public async Task ApiKey_NameBreakingTheRule_Is400NamingName_AndNothingIsCreated(string name)
    {
        using var admin = _server.Client(_server.AdminToken);
        var before = await _server.CallerStateAsync();

        using var response = await admin.PostAsync("/v1/apikeys", ServerHost.Json(new ApiKeyCreateRequest(name, "viewer"), CoreJson.Default.ApiKeyCreateRequest));

        await AssertBadRequestAsync(response, "name");
        Assert.Equal(before, await _server.CallerStateAsync());
        Assert.Single((await admin.GetFromJsonAsync("/v1/apikeys", CoreJson.Default.ListApiKeyView))!);
    }

    [Fact]
    public async Task ApiKey_NameTooLong_Is400_AtTheLimitIsCreated()
    {
        using var admin = _server.Client(_server.AdminToken);

        using var tooLong = await admin.PostAsync("/v1/apikeys", ServerHost.Json(new ApiKeyCreateRequest(new string('k', 64), "viewer"), CoreJson.Default.ApiKeyCreateRequest));
        await AssertBadRequestAsync(tooLong, "name");

        using var atLimit = await admin.PostAsync("/v1/apikeys", ServerHost.Json(new ApiKeyCreateRequest(new string('k', 63), "viewer"), CoreJson.Default.ApiKeyCreateRequest));
        Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
        using var usual = await admin.PostAsync("/v1/apikeys", ServerHost.Json(new ApiKeyCreateRequest("ci-deploy.v2_B", "operator"), CoreJson.Default.ApiKeyCreateRequest));
        Assert.Equal(HttpStatusCode.Created, usual.StatusCode);
    }

    [Theory]
    [InlineData("Admin")]
    [InlineData("ADMIN")]
    [InlineData("admin ")]
    [InlineData("3")]
    [InlineData("Viewer")]
    [InlineData("")]
    public async Task ApiKey_RoleNotExactlyALowerCaseRoleName_Is400NamingRole_AndNothingIsCreated(string role)
    {
        using var admin = _server.Client(_server.AdminToken);
        var before = await _server.CallerStateAsync();

        using var response = await admin.PostAsync("/v1/apikeys", ServerHost.Json(new ApiKeyCreateRequest("ci", role), CoreJson.Default.ApiKeyCreateRequest));

        var text = await AssertBadRequestAsync(response, "role");
        Assert.Contains("metrics, viewer, operator, admin", text, StringComparison.Ordinal);
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    [Theory]
    [InlineData("GET", "/v1/nodes/a%0Ab", "name")]
    [InlineData("POST", "/v1/nodes/a%0Ab/drain", "name")]
    [InlineData("POST", "/v1/nodes/-rf/undrain", "name")]
    [InlineData("DELETE", "/v1/nodes/a%0Ab", "name")]
    [InlineData("DELETE", "/v1/nodes/%2E%2E%2Fx", "name")]
    [InlineData("DELETE", "/v1/nodes/LONG", "name")]
    [InlineData("DELETE", "/v1/apikeys/..%2Fx", "id")]
    [InlineData("DELETE", "/v1/apikeys/a%0Ab", "id")]
    [InlineData("DELETE", "/v1/apikeys/0123456789AB", "id")]
    [InlineData("DELETE", "/v1/tokens/a%0Ab", "id")]
    [InlineData("DELETE", "/v1/tokens/LONG", "id")]
    public async Task Path_NameNoObjectCanHave_Is400NamingTheParameter_AndChangesNothing(string method, string path, string field)
    {
        using var admin = _server.Client(_server.AdminToken);
        var before = await _server.CallerStateAsync();

        using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path.Replace("LONG", new string('a', 300), StringComparison.Ordinal)));

        var text = await AssertBadRequestAsync(response, field);
        Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    [Theory]
    [InlineData("GET", "/v1/nodes/web-3")]
    [InlineData("DELETE", "/v1/nodes/web-3")]
    [InlineData("DELETE", "/v1/apikeys/0123456789ab")]
    [InlineData("DELETE", "/v1/tokens/0123456789ab")]
    public async Task Path_WellFormedNameNoObjectHas_Is404Problem(string method, string path)
    {
        using var admin = _server.Client(_server.AdminToken);

        using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task NodeLabels_ControlCharacterInNameOrValue_Is400NamingTheLabel()
    {
        var agent = _server.NodeClient(await _server.JoinNodeAsync("n1"));
        using (var registered = await NodeCertificateTests.RegisterAsync(agent, "n1"))
        {
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        }
        using var admin = _server.Client(_server.AdminToken);
        var before = await _server.CallerStateAsync();

        foreach (var labels in new[] { Map("zo\nne", "a"), Map("zone", "a\0b"), Map("zone", "a\u2028") })
        {
            using var response = await admin.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(labels), CoreJson.Default.NodeLabelsRequest));
            await AssertBadRequestAsync(response, LabelField(labels.Keys.Single()));
        }
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    [Theory]
    [InlineData("zo\nne", "a")]
    [InlineData("zone", "a\0b")]
    [InlineData("zone", "a b")]
    [InlineData("zone", "")]
    [InlineData("-zone", "a")]
    [InlineData("zone", "a\u0085")]
    public async Task Register_AgentLabelBreakingTheLabelRule_Is400NamingTheLabel_AndNothingIsStored(string key, string value)
    {
        var agent = _server.NodeClient(await _server.JoinNodeAsync("n2"));
        var before = await _server.CallerStateAsync();

        using var response = await NodeCertificateTests.RegisterAsync(agent, "n2", Map(key, value));

        await AssertBadRequestAsync(response, LabelField(key));
        Assert.Equal(before, await _server.CallerStateAsync());
        Assert.Null(await _server.State.GetNodeAsync("n2", CancellationToken.None));
    }

    // A label name is named in the field with its control characters escaped, so that the field cannot break a line.
    private static string LabelField(string key) => "labels." + key.Replace("\n", "\\u000A", StringComparison.Ordinal);

    private static Dictionary<string, string> Map(string key, string value) => new(StringComparer.Ordinal) { [key] = value };


    private static async Task<string> AssertBadRequestAsync(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        var fields = problem.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains(field, fields);
        return text;
    }

    private static async Task<string> CreateTokenAsync(HttpClient admin, string role = "agent")
    {
        using var created = await admin.PostAsync("/v1/tokens", ServerHost.Json(new JoinTokenCreateRequest(null, 1, role), CoreJson.Default.JoinTokenCreateRequest));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync(CoreJson.Default.JoinTokenCreated))!.Token;
    }

    private static string Csr(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }
}
