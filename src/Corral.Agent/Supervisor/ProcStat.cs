using System.Globalization;

namespace Corral.Agent.Supervisor;

/// <summary>
/// The fields of <c>/proc/PID/stat</c> that identify a process across PID reuse: a PID together with its
/// start time (clock ticks since boot) names one process for the life of the machine.
/// </summary>
public sealed record ProcStat(int Pid, char State, int ParentPid, int ProcessGroup, int Session, ulong StartTicks)
{
    /// <summary>Reads a process's stat; null when it does not exist (or vanished while reading).</summary>
    public static ProcStat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        return Parse(pid, text);
    }

    /// <summary>Parses the text of a stat file; the command name may hold spaces and parentheses.</summary>
    public static ProcStat? Parse(int pid, string text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length)
        {
            return null;
        }
        // Fields after the name start at field 3 (state).
        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20)
        {
            return null;
        }
        return new ProcStat(
            pid,
            fields[0][0],
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            int.Parse(fields[3], CultureInfo.InvariantCulture),
            ulong.Parse(fields[19], CultureInfo.InvariantCulture));
    }

    /// <summary>True when this is a zombie or dead entry (it runs no code any more).</summary>
    public bool IsDead => State is 'Z' or 'X' or 'x';

    /// <summary>Every process currently listed in /proc.</summary>
    public static IEnumerable<ProcStat> All()
    {
        string[] entries;
        try
        {
            entries = Directory.GetDirectories("/proc");
        }
        catch (IOException)
        {
            yield break;
        }
        foreach (var entry in entries)
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Read(pid) is { } stat)
            {
                yield return stat;
            }
        }
    }

    /// <summary>True when a live (non-zombie) process with this PID and start time exists.</summary>
    public static bool IsAlive(int pid, ulong startTicks) =>
        Read(pid) is { } stat && stat.StartTicks == startTicks && !stat.IsDead;
}
