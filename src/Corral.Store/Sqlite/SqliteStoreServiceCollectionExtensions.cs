using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Sqlite;

/// <summary>Registers the embedded SQLite backend as the process's <see cref="IClusterStore"/>.</summary>
public static class SqliteStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="SqliteStore"/> as the singleton <see cref="IClusterStore"/>, opened on first use with the
    /// container's <see cref="TimeProvider"/> (or <see cref="TimeProvider.System"/>) and logger factory. The options are
    /// validated now: invalid options throw <see cref="ArgumentException"/> listing every problem.
    /// </summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services, SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<IClusterStore>(sp => SqliteStore.Open(
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<SqliteStore>() ?? NullLogger<SqliteStore>.Instance));
        return services;
    }
}
