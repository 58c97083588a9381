using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace Corral.Store.Etcd.Grpc;

/// <summary>
/// The gRPC length-prefixed message framing: one byte compressed flag (always 0 here), four bytes big-endian length,
/// then the protobuf bytes.
/// </summary>
internal static class GrpcFraming
{
    public const int HeaderSize = 5;

    /// <summary>The framed bytes of <paramref name="message"/> (prefix and body) in one new array.</summary>
    public static byte[] Frame(IMessage message)
    {
        var size = message.CalculateSize();
        var buffer = new byte[HeaderSize + size];
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1, 4), (uint)size);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>
    /// Reads one framed message, or returns null at a clean end of stream (before any byte of a new message).
    /// Messages split across reads are reassembled; a stream that ends inside a message throws
    /// <see cref="GrpcException"/> (<see cref="GrpcStatusCode.Internal"/>).
    /// </summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(Stream stream, MessageParser<T> parser, byte[] header, int maxBytes, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var read = 0;
        while (read < HeaderSize)
        {
            var n = await stream.ReadAsync(header.AsMemory(read, HeaderSize - read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0)
                {
                    return null;
                }
                throw new GrpcException(GrpcStatusCode.Internal, "stream ended inside a message prefix");
            }
            read += n;
        }
        if (header[0] != 0)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "compressed messages are not supported (no grpc-encoding was offered)");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1, 4));
        if (length > (uint)maxBytes)
        {
            throw new GrpcException(GrpcStatusCode.ResourceExhausted, $"received message of {length} bytes is larger than the limit of {maxBytes} bytes");
        }
        if (length == 0)
        {
            return parser.ParseFrom(ReadOnlySpan<byte>.Empty);
        }
        var body = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            try
            {
                await stream.ReadExactlyAsync(body.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException e)
            {
                throw new GrpcException(GrpcStatusCode.Internal, "stream ended inside a message", inner: e);
            }
            return parser.ParseFrom(body.AsSpan(0, (int)length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }
}
