using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Core;
using Corral.Server.Agents;
using Corral.Server.Api;
using Corral.Core.Monitoring;
using Corral.Server.Dashboard;
using Corral.Server.Leadership;
using Corral.Server.Metrics;
using Corral.Server.Monitoring;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Server.Vip;
using Corral.Store;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Corral.Server;

/// <summary>Builds the server host: Kestrel on HTTPS (the cluster CA's server certificate), the REST API under /v1.</summary>
public static class CorralServer
{
    /// <summary>
    /// Builds (does not start) the server for an initialized data directory. The returned app owns the store and
    /// disposes it when disposed.
    /// </summary>
    public static WebApplication Build(ServerRunOptions options, TimeProvider time, Action<ILoggingBuilder>? configureLogging = null)
    {
        var paths = new ServerPaths(Path.GetFullPath(options.DataDir));
        if (!paths.IsInitialized)
        {
            throw new InvalidOperationException($"{paths.DataDir} is not an initialized server data directory (no {paths.ServerConfig}); run 'corral server init --data-dir {paths.DataDir}' first");
        }
        var config = JsonSerializer.Deserialize(File.ReadAllText(paths.ServerConfig), ServerJson.Default.ServerConfig)
            ?? throw new InvalidOperationException($"{paths.ServerConfig} is empty");
        if (options.Store is { } store)
        {
            config = config.WithStore(store);
        }
        var timing = options.Timing ?? config.Timing ?? HaTiming.Default;
        if (timing.Validate() is { Count: > 0 } unsafeTiming)
        {
            throw new InvalidOperationException($"{paths.ServerConfig}: unsafe timing: " + string.Join("; ", unsafeTiming));
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Corral.Server", ContentRootPath = paths.DataDir });
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        // The host logs a failed start (a port in use) as an error with a stack trace; the caller reports it instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        var ca = CertificateAuthority.Load(paths.CaCertificate, paths.CaKey, time);
        var serverCertificate = X509Certificate2.CreateFromPemFile(paths.ServerCertificate, paths.ServerKey);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.Listen, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = serverCertificate;
                    // Agents present certificates from the cluster CA; API clients use keys and need none.
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) => ca.Verifies(certificate);
                });
            });
        });

        builder.Services.AddSingleton(time);
        // Long polls answer at once when the host stops (see AgentEndpoints, EventEndpoints); this bounds anything else.
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        if (config.ManagedEtcd is { } managed)
        {
            // Registered before every other hosted service: the member starts first and stops last.
            var member = managed.ToOptions(config.Name, paths, timing);
            builder.Services.AddHostedService(sp => new ManagedEtcdService(member, sp.GetRequiredService<ILogger<ManagedEtcdService>>()));
        }
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(paths);
        builder.Services.AddSingleton(ca);
        builder.Services.AddSingleton(config.ToStoreConfig());
        builder.Services.AddSingleton<IClusterStore>(sp => new InstrumentedStore(config.ToStoreConfig().Open(paths, time, sp.GetRequiredService<ILoggerFactory>())));
        builder.Services.AddSingleton(sp => new ClusterState(sp.GetRequiredService<IClusterStore>(), time));
        builder.Services.AddSingleton<QuorumMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<QuorumMonitor>());
        builder.Services.AddSingleton<EtcdEndpointSync>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EtcdEndpointSync>());
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<JoinTokenStore>();
        builder.Services.AddSingleton(options.LogRetention);
        builder.Services.AddSingleton(options.EventRetention);
        if (options.Vip is { } vip)
        {
            // Before the control plane: the address is added before the other controllers establish a term.
            builder.Services.AddCorralVip(vip);
        }
        // A managed member is named like its server; for an external etcd the placement finds it by this machine's addresses.
        builder.Services.AddSingleton(new EtcdPlacementOptions { LocalMemberName = config.ManagedEtcd is null ? null : config.Name });
        builder.Services.AddCorralControlPlane(new ControlPlaneOptions
        {
            ServerName = config.Name,
            HeartbeatGrace = options.HeartbeatGrace,
        }.WithTiming(timing));
        builder.Services.AddCorralMonitoring(
            MonitorOptionsLoader.Load(Path.Combine(paths.DataDir, MonitorOptions.FileName)),
            new ServerCertificates([
                new CertificateHealth("cert/ca", "the cluster CA certificate", ca.Certificate.NotAfter.ToUniversalTime(),
                    "the CA signs every node and server certificate: plan a new cluster CA and re-issue every certificate before it expires."),
                new CertificateHealth("cert/server/" + config.Name, $"server {config.Name}'s certificate", serverCertificate.NotAfter.ToUniversalTime(),
                    $"issue a new server certificate from the cluster CA into {paths.ServerCertificate} and restart the server."),
            ]));
        builder.Services.AddSingleton(sp => new NodeCertificates(ca, sp.GetRequiredService<ClusterState>(), time, options.NodeCertificateValidity));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(openApi => openApi.AddSchemaTransformer<RequiredMembersTransformer>().AddOperationTransformer<RequestBodyOperationTransformer>());
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, CoreJson.Default);
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // CoreJson's own converters apply only to its own options; enums carry theirs (EnumJsonConverter).
            json.SerializerOptions.Converters.Add(new DurationJsonConverter());
        });

        var app = builder.Build();
        // Open the store now: a locked, read-only or corrupt store fails the start, not the first request.
        app.Services.GetRequiredService<IClusterStore>();
        // Start listening to the meters now: counts from before the first scrape are not lost.
        app.Services.GetRequiredService<PrometheusExporter>();
        app.UseExceptionHandler(errors => errors.Run(async http =>
        {
            var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            var lost = http.RequestServices.GetRequiredService<QuorumMonitor>().LostReason;
            // "quorum lost" is kept for writes refused before they reach the store (below), which clients may take as
            // certainly not applied. A request that failed in the store may have been: its proposal can sit in the log of
            // an etcd leader that lost its quorum and commit once the quorum is back. So it is "unavailable", with the
            // quorum's state when the monitor knows it.
            var result = error is StoreUnavailableException unavailable
                ? ApiProblems.Unavailable(lost is null ? unavailable.Message : $"{lost} This request failed in the store: {unavailable.Message}")
                : error is StoreLimitException limit
                // A name or value no route's own checks caught that is over a store limit: the caller's fault, nothing written.
                ? ApiProblems.BadRequest($"the request names or writes something over a store limit: {limit.Message.Split(" (Parameter", 2)[0]}")
                : Results.Problem(detail: "an internal error occurred; see the server log", statusCode: StatusCodes.Status500InternalServerError, title: "internal error");
            await result.ExecuteAsync(http).ConfigureAwait(false);
        }));

        // Without quorum every write would time out: refuse them at once, saying why. Reads go on.
        app.Use(async (http, next) =>
        {
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
                && http.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal)
                && http.RequestServices.GetRequiredService<QuorumMonitor>().LostReason is { } reason)
            {
                await ApiProblems.QuorumLost(reason).ExecuteAsync(http).ConfigureAwait(false);
                return;
            }
            await next(http).ConfigureAwait(false);
        });

        app.UseRouting();
        app.Use(MetricsEndpoints.CountRequestAsync);
        var api = app.MapGroup("/v1");
        StatusEndpoints.Map(app, api);
        ServiceEndpoints.Map(api);
        NodeEndpoints.Map(api);
        StackEndpoints.Map(api);
        EventEndpoints.Map(api);
        LogEndpoints.Map(api);
        KeyEndpoints.Map(api);
        AlarmEndpoints.Map(api);
        MetricsEndpoints.Map(app);
        JoinEndpoints.Map(api);
        WhoAmIEndpoints.Map(api);
        DashboardEndpoints.Map(app);
        ServerJoinEndpoints.Map(api);
        app.MapAgentEndpoints();
        app.MapOpenApi().RequireRole(Role.Viewer);
        return app;
    }
}
