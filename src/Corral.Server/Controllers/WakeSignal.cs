using System.Threading.Channels;

namespace Corral.Server.Controllers;

/// <summary>
/// A level-triggered wake-up for a single waiting loop: any number of <see cref="Set"/> calls before a wait make it
/// return once. A signal set after the waiter woke is kept for the next wait, so none is lost.
/// </summary>
internal sealed class WakeSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    public void Set() => _channel.Writer.TryWrite(true);

    /// <summary>Consumes a pending signal without waiting; true when there was one.</summary>
    public bool TryConsume() => _channel.Reader.TryRead(out _);

    /// <summary>Waits for a signal or <paramref name="timeout"/> on <paramref name="time"/>'s clock; true when signalled.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (TryConsume())
        {
            return true;
        }
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await _channel.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
