using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Corral.Server.Api;

/// <summary>
/// Marks in the OpenAPI document exactly the members <see cref="RequestBody"/> requires, and says that no other
/// members are accepted: the document and the refusals come from the same serialization metadata.
/// </summary>
internal sealed class RequiredMembersTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var info = context.JsonTypeInfo;
        if (info.Kind != System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object || context.JsonPropertyInfo is not null)
        {
            return Task.CompletedTask;
        }
        var required = info.Properties.Where(RequestBody.IsRequired).Select(p => p.Name).ToList();
        if (required.Count > 0)
        {
            schema.Required = new HashSet<string>(required, StringComparer.Ordinal);
        }
        schema.AdditionalPropertiesAllowed = false;
        return Task.CompletedTask;
    }
}

/// <summary>Names the type a route reads with <see cref="RequestBody"/>, for the OpenAPI document (see <see cref="RequestBodyOperationTransformer"/>).</summary>
internal sealed record RequestBodyType(Type Type);

/// <summary>
/// Describes the body of routes that read it themselves (<see cref="RequestBody"/>): the route carries
/// <see cref="RequestBodyType"/>, and the document gets the type's schema as a required JSON body. Unlike
/// <c>Accepts&lt;T&gt;</c> this adds no content-type matching, which would answer 415 before the caller is authenticated.
/// </summary>
internal sealed class RequestBodyOperationTransformer : IOpenApiOperationTransformer
{
    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyType>().LastOrDefault() is not { } body)
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken).ConfigureAwait(false);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new OpenApiMediaType { Schema = schema } },
        };
    }
}

internal static class RequestBodyTypeExtensions
{
    /// <summary>Documents that the route reads a <typeparamref name="T"/> body.</summary>
    public static RouteHandlerBuilder TakesBody<T>(this RouteHandlerBuilder builder) => builder.WithMetadata(new RequestBodyType(typeof(T)));
}
