namespace Corral.Client;

/// <summary>
/// What a command line gave (each null when not given) plus the environment to consult; see
/// <see cref="ClientConfigLoader"/> for the order they are looked at.
/// </summary>
/// <param name="Addresses"><c>--addr</c>: comma-separated server URLs.</param>
/// <param name="Token"><c>--token</c>: an API key.</param>
/// <param name="ConfigFile"><c>--config</c>: a client config file.</param>
/// <param name="Environment">Reads an environment variable (null when unset); default the process environment.</param>
public sealed record ClientConfigSources(string? Addresses, string? Token, string? ConfigFile, Func<string, string?>? Environment = null)
{
    internal string? Env(string name)
    {
        var value = (Environment ?? System.Environment.GetEnvironmentVariable)(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}
