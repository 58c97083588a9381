namespace Corral.Store.Etcd.Grpc;

/// <summary>A gRPC call ended with a non-OK status, or could not be carried out at the transport level.</summary>
public sealed class GrpcException : Exception
{
    public GrpcException(GrpcStatusCode statusCode, string statusMessage, bool requestNotSent = false, Exception? inner = null)
        : base($"gRPC {statusCode} ({(int)statusCode}): {statusMessage}", inner)
    {
        StatusCode = statusCode;
        StatusMessage = statusMessage;
        RequestNotSent = requestNotSent;
    }

    /// <summary>The status, from <c>grpc-status</c> (or derived from the HTTP or transport failure).</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The percent-decoded <c>grpc-message</c>, or a description of the transport failure.</summary>
    public string StatusMessage { get; }

    /// <summary>
    /// True only when the request certainly never reached the server (no connection could be made), so even a
    /// non-idempotent call may be retried elsewhere.
    /// </summary>
    public bool RequestNotSent { get; }
}
