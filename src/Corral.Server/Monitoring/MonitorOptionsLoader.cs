using System.Text.Json;
using Corral.Core;

namespace Corral.Server.Monitoring;

/// <summary>Reads <c>monitor.json</c> into <see cref="MonitorOptions"/>.</summary>
public static class MonitorOptionsLoader
{
    /// <summary>
    /// The options in <paramref name="path"/>, or the defaults when it does not exist.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is not valid; the message names the file and every bad field (with a line for malformed JSON).</exception>
    public static MonitorOptions Load(string path)
    {
        if (!File.Exists(path))
        {
            return MonitorOptions.Default;
        }
        MonitorOptionsFile file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(path), MonitorJson.Default.MonitorOptionsFile)
                ?? throw new InvalidOperationException($"{path}: is JSON null; write an object such as {{\"disk_threshold_percent\": 90}}");
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" field '{e.Path.TrimStart('$', '.')}':";
            throw new InvalidOperationException($"{path}:{e.LineNumber + 1}:{e.BytePositionInLine + 1}:{field} {e.Message.Split(" Path:", 2)[0]}", e);
        }
        var errors = new List<string>();
        var defaults = MonitorOptions.Default;
        TimeSpan Duration(string? text, string field, TimeSpan fallback)
        {
            if (text is null)
            {
                return fallback;
            }
            if (!Durations.TryParse(text, out var value, out var error))
            {
                errors.Add($"{field}: {error}");
                return fallback;
            }
            return value;
        }

        WebhookOptions? webhook = null;
        if (file.Webhook is { } w)
        {
            if (!Uri.TryCreate(w.Url, UriKind.Absolute, out var url))
            {
                errors.Add($"webhook.url: '{w.Url}' is not an absolute URL");
            }
            else
            {
                var d = new WebhookOptions { Url = url };
                webhook = d with
                {
                    Timeout = Duration(w.Timeout, "webhook.timeout", d.Timeout),
                    MaxAttempts = w.MaxAttempts ?? d.MaxAttempts,
                    Backoff = Duration(w.Backoff, "webhook.backoff", d.Backoff),
                    QueueLength = w.QueueLength ?? d.QueueLength,
                };
            }
        }
        ExecHookOptions? exec = null;
        if (file.Exec is { } x)
        {
            var d = new ExecHookOptions { Command = x.Command ?? "" };
            exec = d with
            {
                Args = x.Args ?? [],
                Timeout = Duration(x.Timeout, "exec.timeout", d.Timeout),
                QueueLength = x.QueueLength ?? d.QueueLength,
            };
        }
        var options = new MonitorOptions
        {
            Interval = Duration(file.Interval, "interval", defaults.Interval),
            Thresholds = new()
            {
                DiskThresholdPercent = file.DiskThresholdPercent ?? defaults.Thresholds.DiskThresholdPercent,
                CertExpiryWarning = Duration(file.CertExpiryWarning, "cert_expiry_warning", defaults.Thresholds.CertExpiryWarning),
                CrashLoopRestarts = file.CrashLoopRestarts ?? defaults.Thresholds.CrashLoopRestarts,
                DegradedAfter = Duration(file.DegradedAfter, "degraded_after", defaults.Thresholds.DegradedAfter),
            },
            CrashLoopWindow = Duration(file.CrashLoopWindow, "crash_loop_window", defaults.CrashLoopWindow),
            LastSeenResolution = Duration(file.LastSeenResolution, "last_seen_resolution", defaults.LastSeenResolution),
            ClearedRetention = Duration(file.ClearedRetention, "cleared_retention", defaults.ClearedRetention),
            Webhook = webhook,
            Exec = exec,
        };
        errors.AddRange(options.Validate());
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"{path}: " + string.Join("; ", errors.Distinct(StringComparer.Ordinal)));
        }
        return options;
    }
}
