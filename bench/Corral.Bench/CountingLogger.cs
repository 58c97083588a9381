using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Corral.Bench;

/// <summary>
/// A logger that counts entries by event id and keeps the last warning or error, so a benchmark can report how many
/// reconcile passes committed, went stale or failed without printing every pass.
/// </summary>
internal sealed class CountingLogger<T> : ILogger<T>
{
    private readonly ConcurrentDictionary<int, int> _counts = new();
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>When set, every entry is also written to standard error with the time since this logger was made.</summary>
    public bool Echo { get; init; }

    /// <summary>The last warning or error, formatted with its exception, or null.</summary>
    public string? LastProblem { get; private set; }

    public int Count(int eventId) => _counts.GetValueOrDefault(eventId);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _counts.AddOrUpdate(eventId.Id, 1, (_, n) => n + 1);
        if (Echo)
        {
            Console.Error.WriteLine($"  {Stopwatch.GetElapsedTime(_start).TotalSeconds:0.00} s: {formatter(state, exception)}");
        }
        if (logLevel >= LogLevel.Warning)
        {
            LastProblem = formatter(state, exception) + (exception is null ? "" : ": " + exception.Message);
        }
    }
}
