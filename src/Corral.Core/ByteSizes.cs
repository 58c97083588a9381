using System.Globalization;

namespace Corral.Core;

/// <summary>
/// Parses sizes such as <c>512M</c>, <c>1G</c>, <c>256Mi</c>, <c>64k</c> or a plain byte count. Units are binary
/// (K = 1024 bytes, M = 1024 K, G = 1024 M, T = 1024 G); an optional <c>i</c> and/or <c>B</c> is accepted
/// (<c>512MiB</c> = <c>512MB</c> = <c>512M</c>).
/// </summary>
public static class ByteSizes
{
    private const string Expected = "expected a number with an optional unit K, M, G or T (binary), e.g. 512M or 1G";

    public static bool TryParse(string? text, out long bytes, out string error)
    {
        bytes = 0;
        error = "";
        var s = text?.Trim() ?? "";
        if (s.Length == 0)
        {
            error = $"invalid size '{text}': empty; {Expected}";
            return false;
        }
        var end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.'))
        {
            end++;
        }
        if (end == 0 || !decimal.TryParse(s.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = $"invalid size '{text}': {Expected}";
            return false;
        }
        var unit = s[end..].Trim().ToUpperInvariant();
        if (unit.EndsWith('B'))
        {
            unit = unit[..^1];
        }
        if (unit.EndsWith('I'))
        {
            unit = unit[..^1];
        }
        long multiplier = unit switch
        {
            "" => 1,
            "K" => 1L << 10,
            "M" => 1L << 20,
            "G" => 1L << 30,
            "T" => 1L << 40,
            _ => 0,
        };
        if (multiplier == 0)
        {
            error = $"invalid size '{text}': unknown unit '{s[end..].Trim()}'; {Expected}";
            return false;
        }
        var value = number * multiplier;
        if (value > long.MaxValue || (multiplier == 1 && number != decimal.Truncate(number)))
        {
            error = $"invalid size '{text}': {(value > long.MaxValue ? "too large" : "a byte count must be whole")}";
            return false;
        }
        bytes = (long)decimal.Truncate(value);
        return true;
    }

    /// <summary>Formats as the largest whole binary unit: 536870912 → <c>512M</c>.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["", "K", "M", "G", "T"];
        var i = 0;
        var value = bytes;
        while (i < units.Length - 1 && value != 0 && value % 1024 == 0)
        {
            value /= 1024;
            i++;
        }
        return value.ToString(CultureInfo.InvariantCulture) + units[i];
    }
}
