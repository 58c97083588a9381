using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Corral.Server.Vip;

/// <summary>
/// The virtual IP the leader holds (<c>--vip</c>, <c>--vip-interface</c>) and the notify hooks run on role changes.
/// Validate with <see cref="Validate"/>.
/// </summary>
public sealed record VipOptions
{
    /// <value>The virtual IPv4 address. Required.</value>
    public required IPAddress Address { get; init; }

    /// <value>Prefix length the address is added with (the <c>/24</c> of <c>10.0.0.100/24</c>), 1 to 32. Default 32.</value>
    public int PrefixLength { get; init; } = 32;

    /// <value>The network interface that carries the address, e.g. <c>eth0</c>. Required; must exist.</value>
    public required string Interface { get; init; }

    /// <value>Executable run when this server becomes leader and holds the address. Default none.</value>
    public string? OnLeader { get; init; }

    /// <value>Executable run when this server starts as, or goes back to being, a follower. Default none.</value>
    public string? OnFollower { get; init; }

    /// <value>
    /// Executable run when this server lost leadership because it could not reach the store (its lease could not be
    /// renewed) or could not add the address. Default none.
    /// </value>
    public string? OnFault { get; init; }

    /// <value>A hook still running after this long is killed (its whole process group). 100 ms to 5 min. Default 10 s.</value>
    public TimeSpan HookTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <value>Gratuitous ARP packets sent in each burst, 1 to 20. Default 3.</value>
    public int GratuitousArpCount { get; init; } = 3;

    /// <value>Pause between the packets of one burst, 0 to 1 s. Default 20 ms.</value>
    public TimeSpan GratuitousArpSpacing { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <value>
    /// A second burst is sent this long after the address was added, for clients that missed the first one. 100 ms to
    /// 60 s. Default 3 s.
    /// </value>
    public TimeSpan GratuitousArpRepeat { get; init; } = TimeSpan.FromSeconds(3);

    /// <value>
    /// How often the leader confirms its leadership with a read of the store; a confirmation after one or more failed
    /// ones (a partition healed within the lease) sends a burst again. 100 ms to 60 s. Default 1 s.
    /// </value>
    public TimeSpan ConfirmInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>ADDRESS/PREFIX</c>, as given to <c>ip addr</c>.</summary>
    public string Cidr => $"{Address}/{PrefixLength.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Parses <c>10.0.0.100/24</c> (or a bare address, prefix 32). Returns null and sets <paramref name="error"/> when
    /// <paramref name="text"/> is not an IPv4 address with an optional prefix length of 1 to 32.
    /// </summary>
    public static (IPAddress Address, int PrefixLength)? ParseCidr(string text, out string? error)
    {
        error = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        var prefix = 32;
        if (!IPAddress.TryParse(addressText, out var address) || address.AddressFamily != AddressFamily.InterNetwork || addressText.Count(c => c == '.') != 3)
        {
            error = $"'{text}' is not an IPv4 address in CIDR form like 10.0.0.100/24";
            return null;
        }
        if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix is < 1 or > 32))
        {
            error = $"'{text}': the prefix length after '/' must be a number from 1 to 32";
            return null;
        }
        var first = address.GetAddressBytes()[0];
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.Broadcast) || first == 127 || first >= 224)
        {
            error = $"'{text}': {address} cannot be a virtual IP (unspecified, loopback, multicast or broadcast)";
            return null;
        }
        return (address, prefix);
    }

    /// <summary>Returns every problem with these options, each naming its option; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Address is null || Address.AddressFamily != AddressFamily.InterNetwork)
        {
            errors.Add($"--vip: '{Address}' must be an IPv4 address");
        }
        if (PrefixLength is < 1 or > 32)
        {
            errors.Add($"--vip: prefix length {PrefixLength} must be from 1 to 32");
        }
        if (string.IsNullOrEmpty(Interface))
        {
            errors.Add("--vip-interface: required with --vip");
        }
        else if (!InterfaceExists(Interface))
        {
            var known = string.Join(", ", NetworkInterface.GetAllNetworkInterfaces().Select(n => n.Name).Order(StringComparer.Ordinal));
            errors.Add($"--vip-interface: no network interface named '{Interface}' on this host (found: {known})");
        }
        CheckHook(OnLeader, "--vip-on-leader", errors);
        CheckHook(OnFollower, "--vip-on-follower", errors);
        CheckHook(OnFault, "--vip-on-fault", errors);
        if (HookTimeout < TimeSpan.FromMilliseconds(100) || HookTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"--vip-hook-timeout: {HookTimeout.TotalSeconds} s must be from 0.1 s to 5 min");
        }
        if (GratuitousArpCount is < 1 or > 20)
        {
            errors.Add($"GratuitousArpCount {GratuitousArpCount} must be from 1 to 20");
        }
        if (GratuitousArpSpacing < TimeSpan.Zero || GratuitousArpSpacing > TimeSpan.FromSeconds(1))
        {
            errors.Add($"GratuitousArpSpacing {GratuitousArpSpacing.TotalMilliseconds} ms must be from 0 to 1 s");
        }
        if (GratuitousArpRepeat < TimeSpan.FromMilliseconds(100) || GratuitousArpRepeat > TimeSpan.FromSeconds(60))
        {
            errors.Add($"GratuitousArpRepeat {GratuitousArpRepeat.TotalMilliseconds} ms must be from 100 ms to 60 s");
        }
        if (ConfirmInterval < TimeSpan.FromMilliseconds(100) || ConfirmInterval > TimeSpan.FromSeconds(60))
        {
            errors.Add($"ConfirmInterval {ConfirmInterval.TotalMilliseconds} ms must be from 100 ms to 60 s");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when these options are not valid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid virtual IP options: " + string.Join("; ", errors), "options");
        }
    }

    internal static bool InterfaceExists(string name) =>
        NetworkInterface.GetAllNetworkInterfaces().Any(n => string.Equals(n.Name, name, StringComparison.Ordinal));

    private static void CheckHook(string? path, string option, List<string> errors)
    {
        if (path is null)
        {
            return;
        }
        if (!File.Exists(path))
        {
            errors.Add($"{option}: hook '{path}' does not exist");
        }
        else if ((File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            errors.Add($"{option}: hook '{path}' is not executable (chmod +x it)");
        }
    }
}
