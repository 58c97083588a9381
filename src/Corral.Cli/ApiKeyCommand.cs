using System.CommandLine;
using Corral.Core;

namespace Corral.Cli;

/// <summary><c>corral apikey create NAME --role R | ls | revoke ID</c> (admin keys only).</summary>
internal static class ApiKeyCommand
{
    public static Command Create()
    {
        var command = new Command("apikey", "Create, list and revoke API keys (needs an admin key).");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        return command;
    }

    private static Command CreateKey()
    {
        var name = new Argument<string>("NAME") { Description = $"A name for the key (events name its actions key:NAME): {Names.ApiKeyRule}." };
        var role = new Option<string>("--role") { Description = "metrics (only scrape /metrics), viewer (read), operator (also deploy, scale, restart, drain) or admin (also keys, node removal).", Required = true };
        role.AcceptOnlyFromAmong([.. Names.ApiKeyRoles]);
        var command = new Command("create", "Create an API key; its token is printed once and cannot be shown again.") { name, role };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var created = await context.Client.CreateApiKeyAsync(context.Parse.GetValue(name)!, context.Parse.GetValue(role)!, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(created, CoreJson.Default.ApiKeyCreated);
                return ExitCodes.Ok;
            }
            context.Output.Line($"API key '{created.Key.Name}' created: id {created.Key.Id}, role {created.Key.Role}. Its token, shown only now:");
            context.Output.Line(created.Token);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("ls", "List API keys (never their tokens).");
        command.Aliases.Add("list");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var keys = await context.Client.ListApiKeysAsync(cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(keys.ToList(), CoreJson.Default.ListApiKeyView);
                return ExitCodes.Ok;
            }
            var table = CliOutput.Table("ID", "NAME", "ROLE", "CREATED", "CREATED BY", "REVOKED");
            foreach (var key in keys)
            {
                CliOutput.Row(table, key.Id, key.Name, key.Role, Show.Time(key.CreatedAt), key.CreatedBy, key.RevokedAt is null ? "-" : Show.Time(key.RevokedAt));
            }
            context.Output.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("ID") { Description = "The key's id (see corral apikey ls)." };
        var command = new Command("revoke", "Revoke an API key: it is refused from now on.") { id };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var key = context.Parse.GetValue(id)!;
            await context.Client.RevokeApiKeyAsync(key, cancellationToken).ConfigureAwait(false);
            if (!context.Output.Json)
            {
                context.Output.Line($"API key {key} revoked");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
