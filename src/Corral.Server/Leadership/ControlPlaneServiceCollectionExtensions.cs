using Corral.Server.Agents;
using Corral.Server.Controllers;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Corral.Server.Leadership;

/// <summary>Registers the control plane: leader election, the leader-only controllers and what the agent endpoints need.</summary>
public static class ControlPlaneServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons: <paramref name="options"/>, <see cref="ClusterState"/> (unless already registered),
    /// <see cref="HeartbeatTable"/>, <see cref="LivenessRelay"/> (also a hosted service), <see cref="AssignmentTracker"/> (also a hosted service), <see cref="ReplicaReportWriter"/>,
    /// <see cref="AgentIdentity"/>, the controllers <see cref="ReconcileController"/> and <see cref="NodeMonitor"/>, <see cref="Logs.LogRetentionController"/> (with the registered <see cref="Logs.LogRetentionOptions"/>, default otherwise), <see cref="EventRetentionController"/> (with the registered <see cref="EventRetentionOptions"/>, default otherwise), <see cref="EtcdLeaderPlacement"/> (with the registered <see cref="EtcdPlacementOptions"/>, default otherwise) (as
    /// <see cref="ILeaderController"/>s) and <see cref="LeaderElector"/> (also <see cref="ILeadershipState"/> and a hosted
    /// service). Expects <see cref="IClusterStore"/>, <see cref="TimeProvider"/> and logging to be registered. Invalid
    /// options throw <see cref="ArgumentException"/> listing every problem.
    /// </summary>
    public static IServiceCollection AddCorralControlPlane(this IServiceCollection services, ControlPlaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        services.AddSingleton(options);
        services.TryAddSingleton(sp => new ClusterState(sp.GetRequiredService<IClusterStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<HeartbeatTable>();
        services.AddSingleton<RevokedCertificates>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<RevokedCertificates>());
        services.AddSingleton<LivenessRelay>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<LivenessRelay>());
        services.AddSingleton<AgentIdentity>();
        services.AddSingleton<AssignmentTracker>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<AssignmentTracker>());
        services.AddSingleton<ReplicaReportWriter>();
        services.AddSingleton<ReconcileController>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<ReconcileController>());
        services.AddSingleton<NodeMonitor>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<NodeMonitor>());
        services.TryAddSingleton(new Logs.LogRetentionOptions());
        services.AddSingleton<Logs.LogRetentionController>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<Logs.LogRetentionController>());
        services.TryAddSingleton(new EventRetentionOptions());
        services.AddSingleton<EventRetentionController>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<EventRetentionController>());
        services.TryAddSingleton(new EtcdPlacementOptions());
        services.AddSingleton<EtcdLeaderPlacement>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<EtcdLeaderPlacement>());
        services.AddSingleton<LeaderElector>();
        services.AddSingleton<ILeadershipState>(sp => sp.GetRequiredService<LeaderElector>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<LeaderElector>());
        return services;
    }
}
