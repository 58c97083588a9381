using System.Net;
using System.Net.NetworkInformation;

namespace Corral.Server.Vip;

/// <summary>
/// Adds, renews, removes and looks up the virtual IP on its interface, through rtnetlink (<see cref="RtNetlink"/>) in
/// the calling thread's network namespace.
/// </summary>
public static class VipAddress
{
    /// <summary>True when <paramref name="address"/> is assigned to <paramref name="interfaceName"/> in this network namespace.</summary>
    public static bool IsAssigned(string interfaceName, IPAddress address) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.Name == interfaceName)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.Equals(address));

    /// <summary>
    /// Adds the address, or renews it when it is there, with a kernel lifetime of <paramref name="lifetime"/> (whole
    /// seconds, at least 1; null: permanent). The kernel deletes it by itself once that lifetime has run out without a
    /// renewal. Throws <see cref="NetlinkException"/> (an <see cref="IOException"/>) with the kernel's errno otherwise.
    /// </summary>
    public static void Set(VipOptions options, TimeSpan? lifetime)
    {
        ArgumentNullException.ThrowIfNull(options);
        uint seconds = RtNetlink.Forever;
        if (lifetime is { } l)
        {
            if (l < TimeSpan.FromSeconds(1) || l.Ticks % TimeSpan.TicksPerSecond != 0 || l.TotalSeconds >= RtNetlink.Forever)
            {
                throw new ArgumentOutOfRangeException(nameof(lifetime), l, "a kernel address lifetime is whole seconds, at least 1");
            }
            seconds = (uint)l.TotalSeconds;
        }
        RtNetlink.ReplaceAddress(options.Interface, options.Address, options.PrefixLength, seconds);
    }

    /// <summary>
    /// Removes the address (idempotent: one that is not there, e.g. because its lifetime ran out, is success). Throws
    /// <see cref="NetlinkException"/> (an <see cref="IOException"/>) with the kernel's errno otherwise.
    /// </summary>
    public static void Remove(VipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        RtNetlink.DeleteAddress(options.Interface, options.Address, options.PrefixLength);
    }
}
