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

    /// <summary>The environment variable that sets <see cref="RetryFor"/> when the flag is absent.</summary>
    public const string RetryForVariable = "CORRAL_RETRY_FOR";

    /// <summary>The CLI's default retry budget: a new leader takes over within a lease TTL and an etcd election.</summary>
    public static readonly TimeSpan DefaultRetryFor = TimeSpan.FromSeconds(15);

    public Option<string?> RetryFor { get; } = new("--retry-for")
    {
        Description = $"When no server answers (refused, timed out, 503), try them all again with back-off for this long, e.g. 30s; 0 tries once (default: ${RetryForVariable}, else 15s).",
    };

    /// <summary>Creates the options and adds them to <paramref name="command"/>.</summary>
    public static ClientOptions AddTo(Command command)
    {
        var options = new ClientOptions();
        command.Options.Add(options.Addr);
        command.Options.Add(options.Token);
        command.Options.Add(options.Config);
        command.Options.Add(options.Output);
        command.Options.Add(options.RetryFor);
        return options;
    }

    public ClientConfig Resolve(ParseResult parse) =>
        ClientConfigLoader.Load(new ClientConfigSources(parse.GetValue(Addr), parse.GetValue(Token), parse.GetValue(Config)));

    /// <summary>The client options from <c>--retry-for</c> or <c>$CORRAL_RETRY_FOR</c>; throws <see cref="ClientConfigException"/> naming the bad one.</summary>
    public CorralClientOptions ClientOptionsFor(ParseResult parse)
    {
        var (text, origin) = parse.GetValue(RetryFor) is { } flag ? (flag, "--retry-for") : (Environment.GetEnvironmentVariable(RetryForVariable), "$" + RetryForVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return new CorralClientOptions { RetryFor = DefaultRetryFor };
        }
        if (text.Trim() == "0")
        {
            return new CorralClientOptions { RetryFor = TimeSpan.Zero };
        }
        if (!Corral.Core.Durations.TryParse(text.Trim(), out var retryFor, out var error) || retryFor < TimeSpan.Zero || retryFor > TimeSpan.FromHours(1))
        {
            throw new ClientConfigException($"{origin} '{text}' must be a duration from 0 to 1h, e.g. 30s{(string.IsNullOrEmpty(error) ? "" : ": " + error)}");
        }
        return new CorralClientOptions { RetryFor = retryFor };
    }

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
