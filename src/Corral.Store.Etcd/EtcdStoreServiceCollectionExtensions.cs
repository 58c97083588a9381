using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Etcd;

/// <summary>Registers the etcd backend as the process's <see cref="IClusterStore"/>.</summary>
public static class EtcdStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="EtcdStore"/> as the singleton <see cref="IClusterStore"/> (and as itself), created on first
    /// use with the container's <see cref="TimeProvider"/> (or <see cref="TimeProvider.System"/>) and logger factory.
    /// The options are validated now: invalid options throw <see cref="ArgumentException"/> listing every problem.
    /// </summary>
    public static IServiceCollection AddEtcdStore(this IServiceCollection services, EtcdStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new EtcdStore(
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<EtcdStore>() ?? NullLogger<EtcdStore>.Instance));
        services.AddSingleton<IClusterStore>(sp => sp.GetRequiredService<EtcdStore>());
        return services;
    }
}
