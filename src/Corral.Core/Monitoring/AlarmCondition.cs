using Corral.Core.Api;

namespace Corral.Core.Monitoring;

/// <summary>An alarm rule that holds now.</summary>
/// <param name="Kind">The rule, e.g. <c>node.down</c>.</param>
/// <param name="Severity">How urgent.</param>
/// <param name="Subject">What it is about.</param>
/// <param name="Message">What is wrong and what to do. Stable while nothing changes (no running clocks in it): a new message is a store write.</param>
/// <param name="HoldFor">How long the condition must hold before the alarm is raised.</param>
public sealed record AlarmCondition(string Kind, AlarmSeverity Severity, string Subject, string Message, TimeSpan HoldFor = default)
{
    /// <summary>The alarm's stable id: kind and subject, '/' as '.'.</summary>
    public string Id => IdOf(Kind, Subject);

    /// <summary>The id of the alarm of <paramref name="kind"/> about <paramref name="subject"/>.</summary>
    public static string IdOf(string kind, string subject) => kind + "." + subject.Replace('/', '.');
}
