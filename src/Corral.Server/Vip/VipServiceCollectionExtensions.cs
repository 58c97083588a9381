using Corral.Server.Leadership;
using Microsoft.Extensions.Hosting;

namespace Corral.Server.Vip;

/// <summary>Registers the virtual IP manager.</summary>
public static class VipServiceCollectionExtensions
{
    /// <summary>
    /// Registers <paramref name="options"/> and <see cref="VipManager"/> as a singleton, an <see cref="ILeaderController"/>
    /// and a hosted service. Call it before <see cref="ControlPlaneServiceCollectionExtensions.AddCorralControlPlane"/>
    /// so the address is added before the other controllers establish a term. Invalid options (a bad address, a missing
    /// interface or hook) throw <see cref="ArgumentException"/> listing every problem.
    /// </summary>
    public static IServiceCollection AddCorralVip(this IServiceCollection services, VipOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        services.AddSingleton(options);
        services.AddSingleton<VipManager>();
        services.AddSingleton<ILeaderController>(sp => sp.GetRequiredService<VipManager>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<VipManager>());
        return services;
    }
}
