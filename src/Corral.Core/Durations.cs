using System.Globalization;
using System.Text;

namespace Corral.Core;

/// <summary>
/// Parses and formats human durations such as <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c> and
/// combinations like <c>1h30m</c> or <c>1.5s</c>. Units: <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>.
/// A bare <c>0</c> is zero. Negative durations are rejected.
/// </summary>
public static class Durations
{
    private const string Expected = "expected a number followed by a unit (ms, s, m, h, d), e.g. 500ms, 10s, 5m, 1h or 1h30m";

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> whose message quotes the input and says what was expected.</summary>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var value, out var error) ? value : throw new FormatException(error);
    }

    /// <summary>Parses <paramref name="text"/>; false for null, empty or malformed input.</summary>
    public static bool TryParse(string? text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong, quoting the input.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"invalid duration '{text}': empty; {Expected}";
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span[0] == '-')
        {
            error = $"invalid duration '{text}': durations may not be negative";
            return false;
        }
        if (span.Length == 1 && span[0] == '0')
        {
            return true;
        }

        decimal totalMs = 0;
        var position = 0;
        while (position < span.Length)
        {
            var numberStart = position;
            while (position < span.Length && (char.IsAsciiDigit(span[position]) || span[position] == '.'))
            {
                position++;
            }
            if (position == numberStart)
            {
                error = $"invalid duration '{text}': expected a number at '{span[numberStart..].ToString()}'; {Expected}";
                return false;
            }
            if (!decimal.TryParse(span[numberStart..position], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"invalid duration '{text}': '{span[numberStart..position].ToString()}' is not a number; {Expected}";
                return false;
            }

            var unitStart = position;
            while (position < span.Length && char.IsAsciiLetter(span[position]))
            {
                position++;
            }
            var unit = span[unitStart..position];
            decimal unitMs;
            switch (unit)
            {
                case "ms": unitMs = 1m; break;
                case "s": unitMs = 1000m; break;
                case "m": unitMs = 60_000m; break;
                case "h": unitMs = 3_600_000m; break;
                case "d": unitMs = 86_400_000m; break;
                case "":
                    error = $"invalid duration '{text}': missing unit after '{span[numberStart..position].ToString()}'; {Expected}";
                    return false;
                default:
                    error = $"invalid duration '{text}': unknown unit '{unit.ToString()}'; {Expected}";
                    return false;
            }

            totalMs += number * unitMs;
            if (totalMs > (decimal)TimeSpan.MaxValue.TotalMilliseconds / 2)
            {
                error = $"invalid duration '{text}': too large";
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)decimal.Round(totalMs * TimeSpan.TicksPerMillisecond));
        return true;
    }

    /// <summary>
    /// Formats <paramref name="value"/> in the form <see cref="Parse"/> reads, largest units first, e.g. <c>1h30m</c>,
    /// <c>5m</c>, <c>1s500ms</c>, <c>0s</c>. Sub-millisecond parts are dropped; negative values get a leading <c>-</c>.
    /// </summary>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            return "-" + Format(value.Duration());
        }
        var ms = (long)value.TotalMilliseconds;
        if (ms == 0)
        {
            return "0s";
        }
        var builder = new StringBuilder();
        Append(builder, ref ms, 86_400_000, "d");
        Append(builder, ref ms, 3_600_000, "h");
        Append(builder, ref ms, 60_000, "m");
        Append(builder, ref ms, 1_000, "s");
        Append(builder, ref ms, 1, "ms");
        return builder.ToString();
    }

    /// <summary>
    /// Like <see cref="Format"/>, but a sub-millisecond part is kept as a fraction of the last millisecond figure
    /// (<c>0.5ms</c>, <c>1s0.25ms</c>), so that <see cref="Parse"/> gives back exactly <paramref name="value"/>. Equal to
    /// <see cref="Format"/> for whole milliseconds. The form of durations in JSON.
    /// </summary>
    public static string FormatExact(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            return "-" + FormatExact(value.Duration());
        }
        var subMillisecond = value.Ticks % TimeSpan.TicksPerMillisecond;
        if (subMillisecond == 0)
        {
            return Format(value);
        }
        var belowSecond = value.Ticks % TimeSpan.TicksPerSecond;
        var seconds = value.Ticks - belowSecond;
        var ms = (decimal)belowSecond / TimeSpan.TicksPerMillisecond;
        return (seconds == 0 ? "" : Format(TimeSpan.FromTicks(seconds))) + ms.ToString("0.#######", CultureInfo.InvariantCulture) + "ms";
    }

    private static void Append(StringBuilder builder, ref long ms, long unitMs, string unit)
    {
        var count = ms / unitMs;
        if (count > 0)
        {
            builder.Append(count.ToString(CultureInfo.InvariantCulture)).Append(unit);
            ms -= count * unitMs;
        }
    }
}
