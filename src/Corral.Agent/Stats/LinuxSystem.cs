using System.Runtime.InteropServices;

namespace Corral.Agent.Stats;

/// <summary>Constants of the running Linux kernel the samplers need.</summary>
internal static partial class LinuxSystem
{
    private const int ScClkTck = 2;

    /// <summary>Clock ticks per second of /proc CPU times (USER_HZ); 100 when sysconf cannot say.</summary>
    public static long ClockTicksPerSecond { get; } = ReadClockTicks();

    /// <summary>Bytes per memory page.</summary>
    public static long PageSize { get; } = Environment.SystemPageSize;

    private static long ReadClockTicks()
    {
        try
        {
            var value = Sysconf(ScClkTck);
            return value > 0 ? value : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }

    [DllImport("libc", EntryPoint = "sysconf", SetLastError = true)]
    private static extern long Sysconf(int name);
}
