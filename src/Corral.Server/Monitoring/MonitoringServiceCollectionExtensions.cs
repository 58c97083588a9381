using Corral.Server.Leadership;
using Corral.Server.Metrics;

namespace Corral.Server.Monitoring;

/// <summary>Registers the health monitor, the alarm sinks and the metrics exporter.</summary>
public static class MonitoringServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons: <paramref name="options"/>, <paramref name="certificates"/>, <see cref="AlarmSinks"/>,
    /// <see cref="CorralMetrics"/>, a <see cref="PrometheusExporter"/> of every <c>Corral.*</c> meter (this server's
    /// cluster meter only) and <see cref="MonitorController"/> as an <see cref="ILeaderController"/>. Expects the services
    /// of <see cref="ControlPlaneServiceCollectionExtensions.AddCorralControlPlane"/>. Invalid options throw
    /// <see cref="ArgumentException"/> listing every problem.
    /// </summary>
    public static IServiceCollection AddCorralMonitoring(this IServiceCollection services, MonitorOptions options, ServerCertificates certificates)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(certificates);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid MonitorOptions: " + string.Join("; ", errors), nameof(options));
        }
        services.AddSingleton(options);
        services.AddSingleton(certificates);
        services.AddSingleton<AlarmSinks>();
        services.AddSingleton<CorralMetrics>();
        services.AddSingleton(sp =>
        {
            var own = sp.GetRequiredService<CorralMetrics>().Meter;
            return new PrometheusExporter(meter => meter.Name.StartsWith(Instrumentation.MeterPrefix, StringComparison.Ordinal)
                && (meter.Name != own.Name || ReferenceEquals(meter, own)));
        });
        services.AddSingleton<MonitorController>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<MonitorController>());
        return services;
    }
}
