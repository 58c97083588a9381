using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;

namespace Corral.Server.Vip;

/// <summary>Adds, removes and looks up the virtual IP on its interface with iproute2's <c>ip addr</c>.</summary>
public static class VipAddress
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    /// <summary>True when <paramref name="address"/> is assigned to <paramref name="interfaceName"/> in this network namespace.</summary>
    public static bool IsAssigned(string interfaceName, IPAddress address) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.Name == interfaceName)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.Equals(address));

    /// <summary>Adds the address (idempotent: an address already there is success). Throws <see cref="IOException"/> with ip's message otherwise.</summary>
    public static async Task AddAsync(VipOptions options, CancellationToken cancellationToken)
    {
        var (code, output) = await RunIpAsync(["addr", "add", options.Cidr, "dev", options.Interface], cancellationToken).ConfigureAwait(false);
        if (code != 0 && !output.Contains("File exists", StringComparison.Ordinal))
        {
            throw new IOException($"ip addr add {options.Cidr} dev {options.Interface} failed ({code}): {output.Trim()}");
        }
    }

    /// <summary>Removes the address (idempotent: an address that is not there is success). Throws <see cref="IOException"/> with ip's message otherwise.</summary>
    public static async Task RemoveAsync(VipOptions options, CancellationToken cancellationToken)
    {
        var (code, output) = await RunIpAsync(["addr", "del", options.Cidr, "dev", options.Interface], cancellationToken).ConfigureAwait(false);
        if (code != 0 && !output.Contains("Cannot assign requested address", StringComparison.Ordinal) && VipAddress.IsAssigned(options.Interface, options.Address))
        {
            throw new IOException($"ip addr del {options.Cidr} dev {options.Interface} failed ({code}): {output.Trim()}");
        }
    }

    private static async Task<(int Code, string Output)> RunIpAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(File.Exists("/usr/sbin/ip") ? "/usr/sbin/ip" : "ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var process = Process.Start(psi) ?? throw new IOException("could not start ip");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new IOException($"ip {string.Join(' ', args)} did not finish within {CommandTimeout.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }
}
