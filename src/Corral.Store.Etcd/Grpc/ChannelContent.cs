using System.Net;
using System.Threading.Channels;

namespace Corral.Store.Etcd.Grpc;

/// <summary>
/// A request body of unknown length fed from a channel of pre-framed messages: each batch of available frames is
/// written and flushed at once; the body ends (END_STREAM) when the channel is completed.
/// </summary>
internal sealed class ChannelContent(ChannelReader<byte[]> frames) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        while (await frames.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (frames.TryRead(out var frame))
            {
                await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            }
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
