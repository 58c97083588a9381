namespace Corral.Agent.Stats;

/// <summary>The fields of one <c>/proc/[pid]/stat</c> line the samplers use.</summary>
internal readonly record struct ProcStatLine(char State, int ParentPid, int ProcessGroup, int Session, long CpuTicks, long RssPages)
{
    /// <summary>
    /// Parses a stat line. The command name (field 2) may contain spaces and parentheses, so fields are counted from
    /// the last <c>)</c>. <see cref="CpuTicks"/> is utime + stime + cutime + cstime (fields 14–17): the process's own
    /// CPU and that of its reaped children, so a tree's sum does not drop when a child exits and is reaped.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out ProcStatLine parsed)
    {
        parsed = default;
        var close = line.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= line.Length)
        {
            return false;
        }

        // Field 3 (state) starts after ") ".
        var rest = line[(close + 2)..];
        char state = '?';
        long ppid = 0, pgrp = 0, session = 0, ticks = 0, rss = 0;
        var field = 3;
        while (field <= 24)
        {
            var end = rest.IndexOf((byte)' ');
            var token = end < 0 ? rest : rest[..end];
            switch (field)
            {
                case 3:
                    if (token.Length == 0)
                    {
                        return false;
                    }
                    state = (char)token[0];
                    break;
                case 4:
                    if (!TryParseLong(token, out ppid))
                    {
                        return false;
                    }
                    break;
                case 5:
                    if (!TryParseLong(token, out pgrp))
                    {
                        return false;
                    }
                    break;
                case 6:
                    if (!TryParseLong(token, out session))
                    {
                        return false;
                    }
                    break;
                case 14 or 15 or 16 or 17:
                    if (!TryParseLong(token, out var t))
                    {
                        return false;
                    }
                    ticks += t;
                    break;
                case 24:
                    if (!TryParseLong(token, out rss))
                    {
                        return false;
                    }
                    break;
                default:
                    break;
            }
            if (end < 0)
            {
                if (field < 24)
                {
                    return false;
                }
                break;
            }
            rest = rest[(end + 1)..];
            field++;
        }

        parsed = new ProcStatLine(state, (int)ppid, (int)pgrp, (int)session, ticks, rss);
        return true;
    }

    /// <summary>Reads only the session id (field 6), for the cheap first pass over every process.</summary>
    public static bool TryParseSession(ReadOnlySpan<byte> line, out int session)
    {
        session = 0;
        var close = line.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= line.Length)
        {
            return false;
        }
        var rest = line[(close + 2)..];
        for (var field = 3; field < 6; field++)
        {
            var end = rest.IndexOf((byte)' ');
            if (end < 0)
            {
                return false;
            }
            rest = rest[(end + 1)..];
        }
        var last = rest.IndexOf((byte)' ');
        if (!TryParseLong(last < 0 ? rest : rest[..last], out var value))
        {
            return false;
        }
        session = (int)value;
        return true;
    }

    private static bool TryParseLong(ReadOnlySpan<byte> token, out long value)
    {
        value = 0;
        if (token.Length == 0)
        {
            return false;
        }
        var negative = token[0] == (byte)'-';
        var start = negative ? 1 : 0;
        if (start == token.Length)
        {
            return false;
        }
        for (var i = start; i < token.Length; i++)
        {
            var digit = token[i] - (byte)'0';
            if ((uint)digit > 9)
            {
                return false;
            }
            value = (value * 10) + digit;
        }
        if (negative)
        {
            value = -value;
        }
        return true;
    }
}
