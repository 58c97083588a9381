using Microsoft.Extensions.Logging;

namespace Corral.Testing.Logging;

/// <summary>One message a component logged, as <see cref="RecordingLoggerProvider"/> kept it.</summary>
/// <param name="At">When it was logged, by the provider's clock.</param>
/// <param name="Category">The logger's category (the component's type name).</param>
/// <param name="Level">The message's level.</param>
/// <param name="EventId">The message's event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it, if any: expected conditions should carry none.</param>
public sealed record RecordedLog(DateTimeOffset At, string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);
