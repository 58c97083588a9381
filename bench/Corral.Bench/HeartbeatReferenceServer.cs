using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Security;
using Corral.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Corral.Bench;

/// <summary>
/// <c>heartbeats-reference-server --data-dir D --port P</c>: the reference for <c>heartbeats</c>, run as its own
/// process like the server: bare Kestrel with the server's certificate, the same mTLS check against the cluster CA and
/// HTTP/2, whose <c>POST /v1/agent/heartbeat</c> only parses the heartbeat and answers 204 (no Corral server code).
/// Runs until killed.
/// </summary>
internal static class HeartbeatReferenceServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["--data-dir", var dataDir, "--port", var portText] || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            Console.Error.WriteLine("usage: heartbeats-reference-server --data-dir SERVER-DATA-DIR --port PORT");
            return 2;
        }
        var paths = new ServerPaths(Path.GetFullPath(dataDir));
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(paths.CaCertificate));
        using var certificate = X509Certificate2.CreateFromPemFile(paths.ServerCertificate, paths.ServerKey);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = certificate;
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.ClientCertificateValidation = (client, _, _) => ClusterTrust.Chains(ca, client, DateTimeOffset.UtcNow);
                });
            });
        });
        await using var app = builder.Build();
        app.MapPost("/v1/agent/heartbeat", async (HttpContext context) =>
        {
            var heartbeat = await JsonSerializer.DeserializeAsync(context.Request.Body, CoreJson.Default.AgentHeartbeat, context.RequestAborted);
            return heartbeat is null || context.Connection.ClientCertificate is null ? Results.BadRequest() : Results.NoContent();
        });
        await app.RunAsync();
        return 0;
    }
}
