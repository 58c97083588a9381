using System.CommandLine;
using Corral.Core;

namespace Corral.Cli;

/// <summary><c>corral node token create [--ttl 1h] [--uses 1] [--role agent] | ls | revoke ID</c> (admin keys only).</summary>
internal static class NodeTokenCommand
{
    public static Command Create()
    {
        var command = new Command("token", "Create, list and revoke join tokens for new nodes (needs an admin key).");
        command.Subcommands.Add(CreateToken());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        return command;
    }

    private static Command CreateToken()
    {
        var ttl = new Option<string>("--ttl") { Description = "How long the token is valid, e.g. 30m, 1h, 7d.", DefaultValueFactory = _ => "1h" };
        var uses = new Option<int>("--uses") { Description = "How many nodes may join with the token.", DefaultValueFactory = _ => 1 };
        var role = new Option<string>("--role") { Description = "What joins with it: an agent node, or a server (corral server join).", DefaultValueFactory = _ => "agent" };
        role.AcceptOnlyFromAmong("agent", "server");
        var command = new Command("create", "Create a join token; it is printed once and cannot be shown again.") { ttl, uses, role };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var created = await context.Client.CreateJoinTokenAsync(context.Parse.GetValue(ttl), context.Parse.GetValue(uses), context.Parse.GetValue(role), cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(created, CoreJson.Default.JoinTokenCreated);
                return ExitCodes.Ok;
            }
            var info = created.Info;
            context.Output.Line($"join token {info.Id} created: role {info.Role}, {info.Uses} use(s), expires {Show.Time(info.ExpiresAt)}. The token, shown only now:");
            context.Output.Line(created.Token);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("ls", "List join tokens (never their secrets).");
        command.Aliases.Add("list");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var tokens = await context.Client.ListJoinTokensAsync(cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(tokens.ToList(), CoreJson.Default.ListJoinTokenView);
                return ExitCodes.Ok;
            }
            var now = DateTimeOffset.UtcNow;
            var table = CliOutput.Table("ID", "ROLE", "USES LEFT", "EXPIRES", "STATE", "CREATED", "CREATED BY");
            foreach (var token in tokens)
            {
                var state = token.RevokedAt is not null ? "revoked"
                    : token.ExpiresAt <= now ? "expired"
                    : token.UsesLeft <= 0 ? "used"
                    : "valid";
                CliOutput.Row(table, token.Id, token.Role, $"{token.UsesLeft}/{token.Uses}", Show.Time(token.ExpiresAt), state, Show.Time(token.CreatedAt), token.CreatedBy);
            }
            context.Output.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("ID") { Description = "The token's id (see corral node token ls)." };
        var command = new Command("revoke", "Revoke a join token: no node can join with it from now on.") { id };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var token = context.Parse.GetValue(id)!;
            await context.Client.RevokeJoinTokenAsync(token, cancellationToken).ConfigureAwait(false);
            if (!context.Output.Json)
            {
                context.Output.Line($"join token {token} revoked");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
