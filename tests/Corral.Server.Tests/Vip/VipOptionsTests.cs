using System.Net;
using Corral.Server.Vip;

namespace Corral.Server.Tests.Vip;

public sealed class VipOptionsTests
{
    [Theory]
    [InlineData("10.0.0.100/24", "10.0.0.100", 24)]
    [InlineData("192.168.1.5", "192.168.1.5", 32)]
    [InlineData("10.77.0.100/32", "10.77.0.100", 32)]
    public void ParseCidr_Valid_ReturnsAddressAndPrefix(string text, string address, int prefix)
    {
        var parsed = VipOptions.ParseCidr(text, out var error);

        Assert.Null(error);
        Assert.Equal((IPAddress.Parse(address), prefix), parsed);
    }

    [Theory]
    [InlineData("10.0.0.300/24", "is not an IPv4 address")]
    [InlineData("10.0.0/24", "is not an IPv4 address")]
    [InlineData("fe80::1/64", "is not an IPv4 address")]
    [InlineData("10.0.0.100/33", "prefix length")]
    [InlineData("10.0.0.100/", "prefix length")]
    [InlineData("10.0.0.100/x", "prefix length")]
    [InlineData("127.0.0.5/8", "cannot be a virtual IP")]
    [InlineData("224.0.0.1/4", "cannot be a virtual IP")]
    [InlineData("0.0.0.0/8", "cannot be a virtual IP")]
    public void ParseCidr_Invalid_NamesTheProblem(string text, string expected)
    {
        Assert.Null(VipOptions.ParseCidr(text, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Contains(text, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ReportsEveryProblemAtOnce()
    {
        using var dir = new Corral.Testing.TempDirectory("corral-vipopts");
        var notExecutable = Path.Combine(dir.Path, "hook.sh");
        File.WriteAllText(notExecutable, "#!/bin/sh\n");
        File.SetUnixFileMode(notExecutable, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var options = new VipOptions
        {
            Address = IPAddress.Parse("10.0.0.100"),
            PrefixLength = 24,
            Interface = "nosuch0",
            OnLeader = notExecutable,
            OnFault = Path.Combine(dir.Path, "missing.sh"),
            HookTimeout = TimeSpan.Zero,
        };

        var errors = options.Validate();

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("--vip-interface: no network interface named 'nosuch0'", StringComparison.Ordinal) && e.Contains("lo", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--vip-on-leader:", StringComparison.Ordinal) && e.Contains("not executable", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--vip-on-fault:", StringComparison.Ordinal) && e.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--vip-hook-timeout:", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
    }

    [Fact]
    public void Validate_LoopbackInterfaceAndDefaults_AreValid()
    {
        var options = new VipOptions { Address = IPAddress.Parse("10.0.0.100"), PrefixLength = 24, Interface = "lo" };

        Assert.Empty(options.Validate());
        Assert.Equal("10.0.0.100/24", options.Cidr);
    }
}
