using System.Text.Json;
using System.Text.Json.Nodes;

namespace Corral.Server.Tests;

/// <summary><c>server.json</c> writes durations as stack files do and reads what earlier versions wrote.</summary>
public class ServerConfigJsonTests
{
    [Fact]
    public void ServerJson_Timing_IsWrittenAsStackFileDurations_AndRoundTrips()
    {
        var config = new ServerConfig("s1", "c", "sqlite", []) { Timing = HaTiming.Fast };

        var text = JsonSerializer.Serialize(config, ServerJson.Default.ServerConfig);

        var timing = JsonNode.Parse(text)!["timing"]!;
        Assert.Equal("1s", (string?)timing["lease_ttl"]);
        Assert.Equal("150ms", (string?)timing["renew_interval"]);
        Assert.Equal(HaTiming.Fast, JsonSerializer.Deserialize(text, ServerJson.Default.ServerConfig)!.Timing);
    }

    [Fact]
    public void ServerJson_FromAnEarlierVersion_StillReads()
    {
        const string old = """
            {"name":"s1","cluster":"c","store":"sqlite","etcd_endpoints":[],
             "timing":{"lease_ttl":"00:00:02","renew_interval":"00:00:00.3000000","step_down_margin":"00:00:00.5000000","etcd_heartbeat":"00:00:00.0500000","etcd_election_timeout":"00:00:00.5000000"}}
            """;

        var config = JsonSerializer.Deserialize(old, ServerJson.Default.ServerConfig)!;

        Assert.Equal(HaTiming.Default, config.Timing);
        Assert.Null(config.Port);
    }
}
