using System.CommandLine;

namespace Corral.Cli;

/// <summary>The options of <c>corral agent</c> that join a cluster and name the node.</summary>
internal sealed class AgentJoinOptions
{
    public required Option<string?> Server { get; init; }

    public required JoinTokenOptions Token { get; init; }

    public required Option<string?> Name { get; init; }

    public required Option<string[]> Labels { get; init; }

    public static AgentJoinOptions Create() => new()
    {
        Server = new Option<string?>("--server") { Description = "The server(s) to join through and talk to, https://HOST:PORT, comma-separated for several (default: the servers stored at join)." },
        Token = JoinTokenOptions.Create("Join token (K10…, see 'corral node token create'); needed only for the first start"),
        Name = new Option<string?>("--name") { Description = "The node's name when joining (default: the host name)." },
        Labels = new Option<string[]>("--label") { Description = "An agent label KEY=VALUE (repeatable), reported at each registration; an operator label of the same name ('corral node label') wins.", AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [] },
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Server);
        Token.AddTo(command);
        command.Options.Add(Name);
        command.Options.Add(Labels);
    }

    /// <summary>True when any of these options was given (<c>$CORRAL_JOIN_TOKEN</c> does not count).</summary>
    public bool IsUsed(ParseResult parse) =>
        parse.GetValue(Server) is not null || Token.IsGiven(parse) || parse.GetValue(Name) is not null || parse.GetValue(Labels) is { Length: > 0 };
}
