using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Corral.Testing.Logging;

/// <summary>
/// A real logging pipeline (a <see cref="LoggerFactory"/> at <see cref="LogLevel.Trace"/>) whose only provider keeps
/// every message, stamped with the given clock, so a test checks what a component reported, in what order and when,
/// through the same <c>[LoggerMessage]</c> code, levels and filters as in production.
/// </summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<RecordedLog> _records = new();
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _factory;
    private int _disposed;

    public RecordingLoggerProvider(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _factory = LoggerFactory.Create(builder => builder.AddProvider(this).SetMinimumLevel(LogLevel.Trace));
    }

    /// <summary>Everything logged so far, in the order it was logged.</summary>
    public IReadOnlyList<RecordedLog> Records => [.. _records];

    /// <summary>A logger of category <typeparamref name="T"/> that records here.</summary>
    public ILogger<T> CreateLogger<T>() => _factory.CreateLogger<T>();

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(this, categoryName);

    /// <summary>Every record, one line each, for assertion messages.</summary>
    public string Dump() => string.Join('\n', Records.Select(r => $"{r.At:O} {r.Level} {r.Category}[{r.EventId.Id}] {r.Message}{(r.Exception is null ? "" : " | " + r.Exception.GetType().Name + ": " + r.Exception.Message)}"));

    public void Dispose()
    {
        // The factory may dispose its providers, this one included: dispose it once.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _factory.Dispose();
        }
    }

    private sealed class RecordingLogger(RecordingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            owner._records.Enqueue(new RecordedLog(owner._time.GetUtcNow(), category, logLevel, eventId, formatter(state, exception), exception));
        }
    }
}
