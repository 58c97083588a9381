using Corral.Server.Security;

namespace Corral.Server.Api;

/// <summary>Who made an API request: the key's id, name and role. Events name the actor as <c>key:NAME</c>.</summary>
public sealed record Caller(string KeyId, string Name, Role Role)
{
    public string Actor => $"key:{Name}";
}
