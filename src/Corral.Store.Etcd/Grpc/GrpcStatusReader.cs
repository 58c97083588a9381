using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Corral.Store.Etcd.Grpc;

/// <summary>Reads <c>grpc-status</c> / <c>grpc-message</c> from trailers or from the headers of a trailers-only response.</summary>
internal static class GrpcStatusReader
{
    /// <summary>The status in <paramref name="headers"/>, or null when it carries none.</summary>
    public static (GrpcStatusCode Code, string Message)? Read(HttpHeaders headers)
    {
        if (!headers.NonValidated.TryGetValues("grpc-status", out var statusValues))
        {
            return null;
        }
        var text = statusValues.ToString();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return (GrpcStatusCode.Unknown, $"unparsable grpc-status '{text}'");
        }
        var message = headers.NonValidated.TryGetValues("grpc-message", out var messageValues)
            ? Decode(messageValues.ToString())
            : "";
        return ((GrpcStatusCode)code, message);
    }

    /// <summary>Percent-decodes a <c>grpc-message</c> (UTF-8 bytes as %XX).</summary>
    public static string Decode(string value) =>
        value.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(value) : value;

    /// <summary>The gRPC status for a non-200 HTTP response without a gRPC status (per the gRPC HTTP/2 mapping).</summary>
    public static GrpcStatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };

    /// <summary>Formats a <c>grpc-timeout</c> value (at most 8 digits, in the coarsest unit that fits).</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        var ms = Math.Max(1L, (long)Math.Ceiling(timeout.TotalMilliseconds));
        if (ms < 100_000_000)
        {
            return ms.ToString(CultureInfo.InvariantCulture) + "m";
        }
        var seconds = Math.Min(99_999_999L, (long)Math.Ceiling(timeout.TotalSeconds));
        return seconds.ToString(CultureInfo.InvariantCulture) + "S";
    }
}
