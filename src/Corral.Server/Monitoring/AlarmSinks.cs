using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Server.Monitoring;

/// <summary>
/// Delivers alarm notifications to the configured webhook and exec hook. <see cref="Post"/> never waits: each sink
/// has a bounded queue (oldest dropped and logged when full) drained by its own background sender.
/// </summary>
public sealed class AlarmSinks : IAsyncDisposable
{
    private readonly MonitorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AlarmSinks> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<AlarmNotification>? _webhook;
    private readonly Channel<AlarmNotification>? _exec;
    private readonly HttpClient? _http;
    private readonly List<Task> _senders = [];

    public AlarmSinks(MonitorOptions options, TimeProvider time, ILogger<AlarmSinks> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (options.Webhook is { } webhook)
        {
            _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            _webhook = Channel.CreateBounded<AlarmNotification>(
                new BoundedChannelOptions(webhook.QueueLength) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                dropped => MonitorLog.Dropped(_logger, "webhook", dropped.Event, dropped.Alarm.Id));
            _senders.Add(Task.Run(() => SendWebhooksAsync(webhook, _webhook.Reader, _stop.Token)));
        }
        if (options.Exec is { } exec)
        {
            _exec = Channel.CreateBounded<AlarmNotification>(
                new BoundedChannelOptions(exec.QueueLength) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                dropped => MonitorLog.Dropped(_logger, "exec", dropped.Event, dropped.Alarm.Id));
            _senders.Add(Task.Run(() => RunExecHooksAsync(exec, _exec.Reader, _stop.Token)));
        }
    }

    /// <summary>Queues a notification for every sink; returns at once.</summary>
    public void Post(AlarmNotification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        _webhook?.Writer.TryWrite(notification);
        _exec?.Writer.TryWrite(notification);
    }

    public async ValueTask DisposeAsync()
    {
        _webhook?.Writer.TryComplete();
        _exec?.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_senders).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http?.Dispose();
        _stop.Dispose();
    }

    private async Task SendWebhooksAsync(WebhookOptions webhook, ChannelReader<AlarmNotification> reader, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var notification in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                for (var attempt = 1; attempt <= webhook.MaxAttempts; attempt++)
                {
                    string error;
                    try
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        timeout.CancelAfter(webhook.Timeout);
                        using var response = await _http!.PostAsJsonAsync(webhook.Url, notification, CoreJson.Default.AlarmNotification, timeout.Token).ConfigureAwait(false);
                        if (response.IsSuccessStatusCode)
                        {
                            break;
                        }
                        error = $"HTTP {(int)response.StatusCode}";
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                    {
                        error = e is OperationCanceledException ? $"no answer within {Durations.Format(webhook.Timeout)}" : e.Message;
                    }
                    MonitorLog.WebhookFailed(_logger, webhook.Url, attempt, webhook.MaxAttempts, notification.Event, notification.Alarm.Id, error);
                    if (attempt == webhook.MaxAttempts)
                    {
                        MonitorLog.WebhookGaveUp(_logger, webhook.Url, notification.Event, notification.Alarm.Id);
                        break;
                    }
                    var delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, webhook.Backoff.Ticks * (1L << Math.Min(attempt - 1, 20))));
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunExecHooksAsync(ExecHookOptions exec, ChannelReader<AlarmNotification> reader, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var notification in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var outcome = await RunOnceAsync(exec, notification, cancellationToken).ConfigureAwait(false);
                if (outcome is not null)
                {
                    MonitorLog.ExecFailed(_logger, exec.Command, notification.Event, notification.Alarm.Id, outcome);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs the hook once; null when it exited 0, else what went wrong.</summary>
    private async Task<string?> RunOnceAsync(ExecHookOptions exec, AlarmNotification notification, CancellationToken cancellationToken)
    {
        var alarm = notification.Alarm;
        var start = new ProcessStartInfo(exec.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var arg in exec.Args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["CORRAL_ALARM_EVENT"] = notification.Event;
        start.Environment["CORRAL_ALARM_ID"] = alarm.Id;
        start.Environment["CORRAL_ALARM_KIND"] = alarm.Kind;
        start.Environment["CORRAL_ALARM_SEVERITY"] = alarm.Severity.ToString().ToLowerInvariant();
        start.Environment["CORRAL_ALARM_SUBJECT"] = alarm.Subject;
        start.Environment["CORRAL_ALARM_MESSAGE"] = alarm.Message;
        start.Environment["CORRAL_ALARM_FIRST_SEEN"] = alarm.FirstSeen.ToString("O", CultureInfo.InvariantCulture);
        start.Environment["CORRAL_ALARM_LAST_SEEN"] = alarm.LastSeen.ToString("O", CultureInfo.InvariantCulture);
        start.Environment["CORRAL_SERVER"] = notification.Server;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "could not start: " + e.Message;
        }
        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(exec.Timeout);
            try
            {
                try
                {
                    await JsonSerializer.SerializeAsync(process.StandardInput.BaseStream, notification, CoreJson.Default.AlarmNotification, timeout.Token).ConfigureAwait(false);
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The hook does not read its stdin: fine.
                }
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                return process.ExitCode == 0 ? null : $"exited with {process.ExitCode}";
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                return cancellationToken.IsCancellationRequested ? "killed: the server stops" : $"killed after its timeout of {Durations.Format(exec.Timeout)}";
            }
        }
    }
}
