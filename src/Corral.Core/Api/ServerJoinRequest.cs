namespace Corral.Core.Api;

/// <summary><c>POST /v1/join/server</c>: a new server asks to join with a server-role join token.</summary>
/// <param name="Token">The join token (role <c>server</c>).</param>
/// <param name="Name">The new server's name (also its etcd member's name).</param>
/// <param name="PeerUrl">The peer URL its etcd member will listen on, <c>https://IP:PORT</c>.</param>
/// <param name="ClientUrl">The client URL its etcd member will listen on, <c>https://IP:PORT</c>.</param>
public sealed record ServerJoinRequest(string Token, string Name, string PeerUrl, string ClientUrl);
