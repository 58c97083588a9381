namespace Corral.Core.Api;

/// <summary>GET /v1/whoami: the API key that made the request (the dashboard shows actions by its role).</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Name">The key's name (events name it as <c>key:NAME</c>).</param>
/// <param name="Role"><c>viewer</c>, <c>operator</c> or <c>admin</c>.</param>
public sealed record WhoAmI(string Id, string Name, string Role);
