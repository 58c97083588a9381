using System.Text;
using Corral.Store.Etcd;

namespace Corral.Store.Tests.Etcd;

public sealed class EtcdConvertTests
{
    [Theory]
    [InlineData(new byte[] { 0x61 }, new byte[] { 0x62 })]
    [InlineData(new byte[] { 0x61, 0xFF }, new byte[] { 0x62 })]
    [InlineData(new byte[] { 0x61, 0x7A, 0xFF, 0xFF }, new byte[] { 0x61, 0x7B })]
    [InlineData(new byte[] { 0xFF, 0xFF }, new byte[] { 0x00 })]
    public void PrefixEnd_IncrementsLastByteBelow0xFF(byte[] prefix, byte[] expected)
    {
        Assert.Equal(expected, EtcdConvert.PrefixEnd(prefix).ToByteArray());
    }

    [Fact]
    public void Prefix_Empty_IsEveryKey()
    {
        var (key, end) = EtcdConvert.Prefix("");
        Assert.Equal(new byte[] { 0 }, key.ToByteArray());
        Assert.Equal(new byte[] { 0 }, end.ToByteArray());
    }

    [Fact]
    public void After_IsKeyFollowedByNul()
    {
        Assert.Equal(Encoding.UTF8.GetBytes("/a/é\0"), EtcdConvert.After("/a/é").ToByteArray());
    }
}
