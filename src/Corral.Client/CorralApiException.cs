using System.Net;
using System.Text;
using Corral.Core.Api;

namespace Corral.Client;

/// <summary>
/// A server answered with an error: the HTTP status and the RFC 7807 problem it sent (title, detail and, for bad
/// input, every located field error).
/// </summary>
public sealed class CorralApiException : Exception
{
    public CorralApiException(HttpStatusCode status, string title, string detail, IReadOnlyList<FieldError> errors)
        : base(Describe(status, title, detail, errors))
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors;
    }

    public CorralApiException()
        : this(HttpStatusCode.InternalServerError, "error", "", [])
    {
    }

    public CorralApiException(string message)
        : this(HttpStatusCode.InternalServerError, "error", message, [])
    {
    }

    public CorralApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Title = "error";
        Detail = message;
        Errors = [];
        Status = HttpStatusCode.InternalServerError;
    }

    /// <summary>The HTTP status of the answer (400, 401, 403, 404, 409, 503, ...).</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem's short title (<c>not found</c>, <c>conflict</c>, ...).</summary>
    public string Title { get; }

    /// <summary>The problem's detail, for people.</summary>
    public string Detail { get; }

    /// <summary>Located errors in the request (a stack file's line and column, a JSON field); empty when none.</summary>
    public IReadOnlyList<FieldError> Errors { get; }

    /// <summary>A field error as <c>file:line:col: field: message</c> (the location parts that are known).</summary>
    public static string Format(FieldError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var text = new StringBuilder();
        if (!string.IsNullOrEmpty(error.File))
        {
            text.Append(error.File).Append(':');
            if (error.Line is { } line)
            {
                text.Append(line).Append(':');
                if (error.Column is { } column)
                {
                    text.Append(column).Append(':');
                }
            }
            text.Append(' ');
        }
        if (!string.IsNullOrEmpty(error.Field))
        {
            text.Append(error.Field).Append(": ");
        }
        return text.Append(error.Message).ToString();
    }

    private static string Describe(HttpStatusCode status, string title, string detail, IReadOnlyList<FieldError> errors)
    {
        var text = new StringBuilder().Append((int)status).Append(' ').Append(title);
        if (detail.Length > 0)
        {
            text.Append(": ").Append(detail);
        }
        foreach (var error in errors)
        {
            text.Append('\n').Append(Format(error));
        }
        return text.ToString();
    }
}
