using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Corral.Server.Metrics;

/// <summary>
/// Renders <see cref="System.Diagnostics.Metrics"/> instruments in the Prometheus text exposition format 0.0.4.
/// A <see cref="MeterListener"/> aggregates counters (sum) and histograms (cumulative buckets, sum, count) as they are
/// recorded; observable instruments are read at each <see cref="Render"/>. Instrument names are the metric names and
/// must already follow Prometheus conventions; descriptions become HELP. Thread-safe; renders are serialised.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>The content type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Upper bounds of histogram buckets, in seconds.</summary>
    public static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    [ThreadStatic]
    private static StringBuilder? t_labels;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly Lock _renderLock = new();
    private readonly Func<Meter, bool> _include;

    /// <param name="include">Which meters to export.</param>
    public PrometheusExporter(Func<Meter, bool> include)
    {
        _include = include ?? throw new ArgumentNullException(nameof(include));
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_include(instrument.Meter))
            {
                _families.TryAdd(instrument, new Family(instrument));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _families.TryRemove(instrument, out Family? _);
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Writes every exported metric to <paramref name="output"/>.</summary>
    public void Render(StringBuilder output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (_renderLock)
        {
            foreach (var family in _families.Values.Where(f => f.Observable))
            {
                family.BeginScrape();
            }
            _listener.RecordObservableInstruments();
            // Instruments with the same name (several meters of the same component in one process) render as one family.
            foreach (var group in _families.Values.GroupBy(f => f.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = group.First();
                output.Append("# HELP ").Append(first.Name).Append(' ').Append(EscapeHelp(first.Help)).Append('\n');
                output.Append("# TYPE ").Append(first.Name).Append(' ').Append(first.Type).Append('\n');
                var histogram = first.Type == "histogram";
                if (first.Observable && !group.Skip(1).Any())
                {
                    // Observed this scrape, in the order the callback yielded them: written as they are.
                    first.WriteObserved(output);
                    continue;
                }
                var merged = new SortedDictionary<string, Series>(StringComparer.Ordinal);
                foreach (var family in group)
                {
                    foreach (var (labels, series) in family.Snapshot())
                    {
                        if (merged.TryGetValue(labels, out var existing))
                        {
                            existing.Merge(series);
                        }
                        else
                        {
                            merged[labels] = series;
                        }
                    }
                }
                foreach (var (labels, series) in merged)
                {
                    series.Write(output, first.Name, labels, histogram);
                }
            }
        }
    }

    /// <summary>Renders to a string.</summary>
    public string Render()
    {
        var text = new StringBuilder(64 * 1024);
        Render(text);
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_families.TryGetValue(instrument, out var family))
        {
            family.Record(value, Labels(tags));
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }
        var text = t_labels ??= new StringBuilder(128);
        text.Clear();
        for (var i = 0; i < tags.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(tags[i].Key).Append("=\"");
            var value = Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "";
            foreach (var c in value)
            {
                _ = c switch
                {
                    '\\' => text.Append("\\\\"),
                    '"' => text.Append("\\\""),
                    '\n' => text.Append("\\n"),
                    _ => text.Append(c),
                };
            }
            text.Append('"');
        }
        return text.ToString();
    }

    private static string EscapeHelp(string? help) => (help ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One instrument's series, by rendered label set.</summary>
    private sealed class Family(Instrument instrument)
    {
        private readonly Lock _lock = new();
        private readonly List<(string Labels, double Value)> _observed = [];
        private Dictionary<string, Series> _series = new(StringComparer.Ordinal);

        public string Name { get; } = instrument.Name;

        public string? Help { get; } = instrument.Description;

        public bool Observable { get; } = instrument.IsObservable;

        public string Type { get; } = instrument switch
        {
            Histogram<double> or Histogram<long> or Histogram<int> => "histogram",
            Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> => "counter",
            _ => "gauge",
        };

        public void BeginScrape()
        {
            lock (_lock)
            {
                _series = new(StringComparer.Ordinal);
                _observed.Clear();
            }
        }

        public void WriteObserved(StringBuilder output)
        {
            lock (_lock)
            {
                foreach (var (labels, value) in _observed)
                {
                    output.Append(Name);
                    if (labels.Length > 0)
                    {
                        output.Append('{').Append(labels).Append('}');
                    }
                    output.Append(' ').Append(Number(value)).Append('\n');
                }
            }
        }

        public void Record(double value, string labels)
        {
            lock (_lock)
            {
                if (Observable)
                {
                    _observed.Add((labels, value));
                    return;
                }
                if (!_series.TryGetValue(labels, out var series))
                {
                    series = Type == "histogram" ? new Series(new long[Buckets.Length]) : new Series(null);
                    _series[labels] = series;
                }
                if (Observable || Type == "gauge" && instrument is not UpDownCounter<long> and not UpDownCounter<int> and not UpDownCounter<double>)
                {
                    series.Set(value);
                }
                else
                {
                    series.Add(value);
                }
            }
        }

        public List<(string Labels, Series Series)> Snapshot()
        {
            lock (_lock)
            {
                if (Observable)
                {
                    return [.. _observed.Select(o =>
                    {
                        var series = new Series(null);
                        series.Set(o.Value);
                        return (o.Labels, series);
                    })];
                }
                return [.. _series.Select(kv => (kv.Key, kv.Value.Copy()))];
            }
        }
    }

    /// <summary>A value, or a histogram's buckets, sum and count.</summary>
    private sealed class Series(long[]? buckets)
    {
        private readonly long[]? _buckets = buckets;
        private double _value;
        private long _count;

        public void Set(double value) => _value = value;

        public void Add(double value)
        {
            _value += value;
            _count++;
            if (_buckets is null)
            {
                return;
            }
            for (var i = 0; i < Buckets.Length; i++)
            {
                if (value <= Buckets[i])
                {
                    _buckets[i]++;
                    break;
                }
            }
        }

        public void Merge(Series other)
        {
            _value += other._value;
            _count += other._count;
            if (_buckets is not null && other._buckets is not null)
            {
                for (var i = 0; i < _buckets.Length; i++)
                {
                    _buckets[i] += other._buckets[i];
                }
            }
        }

        public Series Copy()
        {
            var copy = new Series(_buckets is null ? null : (long[])_buckets.Clone()) { _value = _value, _count = _count };
            return copy;
        }

        public void Write(StringBuilder output, string name, string labels, bool histogram)
        {
            if (!histogram)
            {
                output.Append(name);
                if (labels.Length > 0)
                {
                    output.Append('{').Append(labels).Append('}');
                }
                output.Append(' ').Append(Number(_value)).Append('\n');
                return;
            }
            var sep = labels.Length > 0 ? labels + "," : "";
            long cumulative = 0;
            for (var i = 0; i < Buckets.Length; i++)
            {
                cumulative += _buckets![i];
                output.Append(name).Append("_bucket{").Append(sep).Append("le=\"").Append(Number(Buckets[i])).Append("\"} ").Append(cumulative).Append('\n');
            }
            output.Append(name).Append("_bucket{").Append(sep).Append("le=\"+Inf\"} ").Append(_count).Append('\n');
            var braces = labels.Length > 0 ? "{" + labels + "}" : "";
            output.Append(name).Append("_sum").Append(braces).Append(' ').Append(Number(_value)).Append('\n');
            output.Append(name).Append("_count").Append(braces).Append(' ').Append(_count).Append('\n');
        }
    }
}
