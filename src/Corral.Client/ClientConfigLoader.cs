using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Client;

/// <summary>
/// Works out which cluster a command talks to. Each of the three parts is taken from the first place that has it:
/// <list type="bullet">
/// <item>addresses: <c>--addr</c>, <c>CORRAL_ADDR</c> (comma-separated), the config file;</item>
/// <item>API key: <c>--token</c>, <c>CORRAL_TOKEN</c>, the config file;</item>
/// <item>cluster CA: the config file only.</item>
/// </list>
/// The config file is <c>--config</c>, else <c>CORRAL_CONFIG</c>, else <see cref="DefaultPath"/> when it exists
/// (<c>$XDG_CONFIG_HOME/corral/config.json</c>, or <c>~/.config/corral/config.json</c>). A file named explicitly must
/// exist.
/// </summary>
public static class ClientConfigLoader
{
    public const string AddressVariable = "CORRAL_ADDR";
    public const string TokenVariable = "CORRAL_TOKEN";
    public const string ConfigVariable = "CORRAL_CONFIG";

    /// <summary>The default config file: <c>$XDG_CONFIG_HOME/corral/config.json</c>, else <c>$HOME/.config/corral/config.json</c>.</summary>
    public static string DefaultPath(Func<string, string?>? environment = null)
    {
        var env = environment ?? Environment.GetEnvironmentVariable;
        var xdg = env("XDG_CONFIG_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "corral", "config.json");
        }
        var home = env("HOME");
        if (string.IsNullOrWhiteSpace(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }
        return Path.Combine(home, ".config", "corral", "config.json");
    }

    /// <summary>Resolves the target; throws <see cref="ClientConfigException"/> naming every part that is missing.</summary>
    public static ClientConfig Load(ClientConfigSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        string? file;
        string fileOrigin;
        if (!string.IsNullOrWhiteSpace(sources.ConfigFile))
        {
            (file, fileOrigin) = (sources.ConfigFile, "--config");
        }
        else if (sources.Env(ConfigVariable) is { } fromEnv)
        {
            (file, fileOrigin) = (fromEnv, ConfigVariable);
        }
        else
        {
            var fallback = DefaultPath(sources.Environment);
            (file, fileOrigin) = (File.Exists(fallback) ? fallback : null, "default");
        }

        ClientConfig? fromFile = null;
        if (file is not null)
        {
            fromFile = Read(file, fileOrigin);
        }

        var addressText = !string.IsNullOrWhiteSpace(sources.Addresses) ? sources.Addresses : sources.Env(AddressVariable);
        IReadOnlyList<string>? addresses = addressText is not null
            ? [.. addressText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : fromFile?.Addresses;
        var token = !string.IsNullOrWhiteSpace(sources.Token) ? sources.Token.Trim() : sources.Env(TokenVariable) ?? fromFile?.Token;
        var ca = fromFile?.CaCertificatePem;

        var missing = new List<string>();
        if (addresses is null || addresses.Count == 0)
        {
            missing.Add($"no server address: pass --addr https://HOST:PORT, set {AddressVariable}, or use a config file");
        }
        if (string.IsNullOrWhiteSpace(token))
        {
            missing.Add($"no API key: pass --token crl_…, set {TokenVariable}, or use a config file");
        }
        if (string.IsNullOrWhiteSpace(ca))
        {
            missing.Add(file is null
                ? $"no cluster CA to trust the server with: it comes from a config file (--config FILE, {ConfigVariable}, or {DefaultPath(sources.Environment)}); 'corral server init' writes one to DATA-DIR/admin.json"
                : $"{file} has no ca_certificate_pem");
        }
        if (missing.Count > 0)
        {
            throw new ClientConfigException(string.Join("\n", missing));
        }
        foreach (var address in addresses!)
        {
            try
            {
                CorralClient.ParseAddress(address);
            }
            catch (ArgumentException e)
            {
                throw new ClientConfigException(e.Message, e);
            }
        }
        return new ClientConfig(addresses!, ca!, token!);
    }

    /// <summary>Reads a config file; throws <see cref="ClientConfigException"/> saying which file and what is wrong.</summary>
    public static ClientConfig Read(string path, string origin = "--config")
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var from = origin == "default" ? "" : $" (from {origin})";
            throw new ClientConfigException($"cannot read the client config {path}{from}: {e.Message}", e);
        }
        try
        {
            return JsonSerializer.Deserialize(text, CoreJson.Default.ClientConfig)
                ?? throw new ClientConfigException($"{path}: the client config is JSON null");
        }
        catch (JsonException e)
        {
            throw new ClientConfigException($"{path}: not a Corral client config (addresses, ca_certificate_pem, token): {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="config"/> to <paramref name="path"/> with mode 0600 (it holds a key), creating its directory.</summary>
    public static void Save(string path, ClientConfig config)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(config);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, config, CoreJson.Default.ClientConfig);
        }
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }
}
