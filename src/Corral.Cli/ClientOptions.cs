using System.CommandLine;
using Corral.Client;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>
/// The options every verb that talks to a server has: <c>--addr</c>, <c>--token</c>, <c>--config</c> and
/// <c>-o table|json</c>. One instance per command.
/// </summary>
internal sealed class ClientOptions
{
    public Option<string?> Addr { get; } = new("--addr")
    {
        Description = $"Server URL(s), comma-separated, tried in order (default: ${ClientConfigLoader.AddressVariable}, then the config file).",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"API key crl_… (default: ${ClientConfigLoader.TokenVariable}, then the config file).",
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = $"Client config file (default: ${ClientConfigLoader.ConfigVariable}, then ~/.config/corral/config.json).",
    };

    public Option<string> Output { get; } = CreateOutput();

    /// <summary>Creates the options and adds them to <paramref name="command"/>.</summary>
    public static ClientOptions AddTo(Command command)
    {
        var options = new ClientOptions();
        command.Options.Add(options.Addr);
        command.Options.Add(options.Token);
        command.Options.Add(options.Config);
        command.Options.Add(options.Output);
        return options;
    }

    public ClientConfig Resolve(ParseResult parse) =>
        ClientConfigLoader.Load(new ClientConfigSources(parse.GetValue(Addr), parse.GetValue(Token), parse.GetValue(Config)));

    public OutputFormat Format(ParseResult parse) =>
        parse.GetValue(Output) == "json" ? OutputFormat.Json : OutputFormat.Table;

    private static Option<string> CreateOutput()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "Output format: table (for people) or json (the API's JSON, for scripts).",
            DefaultValueFactory = _ => "table",
        };
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }
}
