namespace Corral.Agent.Supervisor;

/// <summary>Linux signal names and numbers (x86_64 and arm64 share these).</summary>
public static class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    private static readonly Dictionary<string, int> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["BUS"] = 7,
        ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13,
        ["ALRM"] = 14, ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17, ["CONT"] = 18, ["STOP"] = 19,
        ["TSTP"] = 20, ["TTIN"] = 21, ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25,
        ["VTALRM"] = 26, ["PROF"] = 27, ["WINCH"] = 28, ["IO"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    /// <summary>Parses <c>SIGTERM</c>, <c>TERM</c> or <c>15</c>; false for anything else.</summary>
    public static bool TryParse(string? name, out int signal)
    {
        signal = 0;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }
        var trimmed = name.Trim();
        if (int.TryParse(trimmed, out var number))
        {
            signal = number;
            return number is >= 1 and <= 64;
        }
        if (trimmed.StartsWith("SIG", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[3..];
        }
        return ByName.TryGetValue(trimmed, out signal);
    }

    /// <summary>The conventional name (<c>SIGTERM</c>) of a signal number, or its number as text.</summary>
    public static string Name(int signal)
    {
        foreach (var (name, number) in ByName)
        {
            if (number == signal)
            {
                return "SIG" + name;
            }
        }
        return signal.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
