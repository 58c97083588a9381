using Corral.Core.Api;
using Corral.Testing;

namespace Corral.Client.Tests;

public sealed class ClientConfigLoaderTests : IDisposable
{
    private const string Pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private readonly TempDirectory _dir = new("corral-config");
    private readonly Dictionary<string, string> _env = [];

    public void Dispose() => _dir.Dispose();

    private Func<string, string?> Env => name => _env.GetValueOrDefault(name);

    private string Write(string name, ClientConfig config)
    {
        var path = _dir.Combine(name);
        ClientConfigLoader.Save(path, config);
        return path;
    }

    [Fact]
    public void Load_FlagsWinOverEnvironmentAndFile()
    {
        var file = Write("c.json", new ClientConfig(["https://file:1"], Pem, "crl_file"));
        _env["CORRAL_ADDR"] = "https://env:2";
        _env["CORRAL_TOKEN"] = "crl_env";

        var config = ClientConfigLoader.Load(new ClientConfigSources("https://flag:3, https://flag:4", "crl_flag", file, Env));

        Assert.Equal(["https://flag:3", "https://flag:4"], config.Addresses);
        Assert.Equal("crl_flag", config.Token);
        Assert.Equal(Pem, config.CaCertificatePem);
    }

    [Fact]
    public void Load_EnvironmentWinsOverFile()
    {
        _env["CORRAL_CONFIG"] = Write("c.json", new ClientConfig(["https://file:1"], Pem, "crl_file"));
        _env["CORRAL_ADDR"] = "https://env:2,https://env:3";
        _env["CORRAL_TOKEN"] = "crl_env";

        var config = ClientConfigLoader.Load(new ClientConfigSources(null, null, null, Env));

        Assert.Equal(["https://env:2", "https://env:3"], config.Addresses);
        Assert.Equal("crl_env", config.Token);
    }

    [Fact]
    public void Load_XdgConfigHome_IsTheDefaultFile()
    {
        _env["XDG_CONFIG_HOME"] = _dir.Combine("xdg");
        _env["HOME"] = _dir.Combine("home");
        Write(Path.Combine("xdg", "corral", "config.json"), new ClientConfig(["https://xdg:1"], Pem, "crl_xdg"));

        var config = ClientConfigLoader.Load(new ClientConfigSources(null, null, null, Env));

        Assert.Equal(_dir.Combine("xdg", "corral", "config.json"), ClientConfigLoader.DefaultPath(Env));
        Assert.Equal(["https://xdg:1"], config.Addresses);
    }

    [Fact]
    public void Load_HomeConfig_WhenNoXdg()
    {
        _env["HOME"] = _dir.Combine("home");
        Write(Path.Combine("home", ".config", "corral", "config.json"), new ClientConfig(["https://home:1"], Pem, "crl_home"));

        var config = ClientConfigLoader.Load(new ClientConfigSources(null, null, null, Env));

        Assert.Equal("crl_home", config.Token);
    }

    [Fact]
    public void Load_NothingAnywhere_NamesEveryMissingPart()
    {
        _env["HOME"] = _dir.Combine("empty-home");

        var error = Assert.Throws<ClientConfigException>(() => ClientConfigLoader.Load(new ClientConfigSources(null, null, null, Env)));

        Assert.Contains("no server address: pass --addr", error.Message, StringComparison.Ordinal);
        Assert.Contains("CORRAL_ADDR", error.Message, StringComparison.Ordinal);
        Assert.Contains("no API key: pass --token", error.Message, StringComparison.Ordinal);
        Assert.Contains("CORRAL_TOKEN", error.Message, StringComparison.Ordinal);
        Assert.Contains("no cluster CA", error.Message, StringComparison.Ordinal);
        Assert.Contains(_dir.Combine("empty-home", ".config", "corral", "config.json"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ExplicitFileMissing_SaysWhichAndFromWhere()
    {
        _env["CORRAL_CONFIG"] = _dir.Combine("nope.json");

        var error = Assert.Throws<ClientConfigException>(() => ClientConfigLoader.Load(new ClientConfigSources(null, null, null, Env)));

        Assert.Contains("nope.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("CORRAL_CONFIG", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileNotJson_SaysSo()
    {
        var path = _dir.Combine("bad.json");
        File.WriteAllText(path, "addresses: [x]");

        var error = Assert.Throws<ClientConfigException>(() => ClientConfigLoader.Load(new ClientConfigSources(null, null, path, Env)));

        Assert.Contains("bad.json: not a Corral client config", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_HttpAddress_IsRefused()
    {
        var file = Write("c.json", new ClientConfig(["https://file:1"], Pem, "crl_file"));

        var error = Assert.Throws<ClientConfigException>(() => ClientConfigLoader.Load(new ClientConfigSources("http://x:1", null, file, Env)));

        Assert.Contains("HTTPS only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_WritesAPrivateFile()
    {
        var path = Write("private.json", new ClientConfig(["https://a:1"], Pem, "crl_x"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal("crl_x", ClientConfigLoader.Read(path).Token);
    }

    [Fact]
    public void ParseAddress_HostPortWithoutScheme_IsHttps()
    {
        Assert.Equal(new Uri("https://127.0.0.1:7700/"), CorralClient.ParseAddress("127.0.0.1:7700"));
    }
}
