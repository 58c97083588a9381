using System.Collections.Concurrent;
using Corral.Server.Leadership;

namespace Corral.Server.Tests.Leadership;

/// <summary>A leader controller that records its lifecycle, and counts how many controllers run at once across electors.</summary>
internal sealed class RecordingController(string owner, StrongBox<int> runningAcrossElectors) : ILeaderController
{
    public ConcurrentQueue<string> Steps { get; } = new();

    public int MaxConcurrent { get; private set; }

    public string Name => "recording-" + owner;

    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        Steps.Enqueue("establish");
        return Task.CompletedTask;
    }

    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref runningAcrossElectors.Value);
        MaxConcurrent = Math.Max(MaxConcurrent, now);
        Steps.Enqueue("run");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref runningAcrossElectors.Value);
            Steps.Enqueue(term.Token.IsCancellationRequested ? "cancelled-by-loss" : "cancelled");
        }
    }

    public Task RevokeAsync(CancellationToken cancellationToken)
    {
        Steps.Enqueue("revoke");
        return Task.CompletedTask;
    }
}

/// <summary>A mutable box shared between controllers.</summary>
internal sealed class StrongBox<T>
{
    public T Value = default!;
}
