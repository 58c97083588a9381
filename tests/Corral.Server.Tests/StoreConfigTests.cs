namespace Corral.Server.Tests;

public class StoreConfigTests
{
    [Fact]
    public void Parse_EtcdList_HttpEndpointsOrHttpsWithTls()
    {
        var plain = StoreConfig.Parse("etcd://h1:2379,10.0.0.2:2379, h3:2379", tls: false);
        Assert.Equal("etcd", plain.Kind);
        Assert.Equal(["http://h1:2379", "http://10.0.0.2:2379", "http://h3:2379"], plain.EtcdEndpoints);
        Assert.Equal("etcd://h1:2379,10.0.0.2:2379,h3:2379", plain.ToString());
        Assert.Equal(["https://h1:2379"], StoreConfig.Parse("etcd://h1:2379", tls: true).EtcdEndpoints);
        Assert.Equal("sqlite", StoreConfig.Parse("sqlite", tls: false).Kind);
    }

    [Theory]
    [InlineData("mysql://h1:3306", "expected 'sqlite' or 'etcd://")]
    [InlineData("etcd://", "expected 'sqlite' or 'etcd://")]
    [InlineData("etcd://h1", "'h1' is not HOST:PORT")]
    [InlineData("etcd://h1:2379,,h2:2379", "'' is not HOST:PORT")]
    [InlineData("etcd://h1:2379/x", "'h1:2379/x' is not HOST:PORT")]
    public void Parse_Malformed_NamesTheFlagAndThePart(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => StoreConfig.Parse(text, tls: false));
        Assert.StartsWith($"--store '{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToEtcdOptions_UserWithoutPasswordFileOrMissingCa_Refused()
    {
        var store = StoreConfig.Parse("etcd://h1:2379", tls: true) with { EtcdUser = "corral" };
        Assert.Contains("password file", Assert.Throws<ArgumentException>(store.ToEtcdOptions).Message, StringComparison.Ordinal);
        var missing = StoreConfig.Parse("etcd://h1:2379", tls: true) with { EtcdCaFile = "/nonexistent/ca.pem" };
        Assert.Contains("CaFile: file '/nonexistent/ca.pem' does not exist", Assert.Throws<ArgumentException>(missing.ToEtcdOptions).Message, StringComparison.Ordinal);
    }
}
