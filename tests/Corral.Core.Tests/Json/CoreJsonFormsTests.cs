using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core.Tests.Json;

/// <summary>
/// The JSON forms of durations and enums (wire and store): written as in stack files (<c>30s</c>, <c>on-failure</c>),
/// read in those forms and in the ones earlier versions wrote (<c>00:00:30</c>, <c>OnFailure</c>, <c>on_failure</c>).
/// </summary>
public class CoreJsonFormsTests
{
    private static ServiceSpec Spec() => new()
    {
        Name = "web",
        Stack = "shop",
        Mode = ServiceMode.Replicated,
        Replicas = 3,
        EvictionTimeout = TimeSpan.FromSeconds(30),
        FenceAfter = TimeSpan.FromSeconds(10),
        Task = new TaskSpec
        {
            Command = "corral",
            Args = ["demo-web"],
            StopTimeout = TimeSpan.FromSeconds(90),
            Ports = ["http"],
            Restart = new RestartPolicy { Mode = RestartMode.OnFailure, Window = TimeSpan.FromMinutes(5), Backoff = TimeSpan.FromMilliseconds(500), MaxBackoff = TimeSpan.FromSeconds(30) },
            Health = new HealthCheckSpec { Kind = HealthCheckKind.Http, Path = "/health", Interval = TimeSpan.FromSeconds(2), Timeout = TimeSpan.FromSeconds(1), StartPeriod = TimeSpan.FromMilliseconds(1500) },
        },
    };

    [Fact]
    public void ServiceSpec_Serialized_UsesTheStackFileForms()
    {
        var json = JsonNode.Parse(JsonSerializer.Serialize(Spec(), CoreJson.Default.ServiceSpec))!;

        Assert.Equal("replicated", (string?)json["mode"]);
        Assert.Equal("30s", (string?)json["eviction_timeout"]);
        Assert.Equal("10s", (string?)json["fence_after"]);
        Assert.Equal("1m30s", (string?)json["task"]!["stop_timeout"]);
        Assert.Equal("on-failure", (string?)json["task"]!["restart"]!["mode"]);
        Assert.Equal("5m", (string?)json["task"]!["restart"]!["window"]);
        Assert.Equal("500ms", (string?)json["task"]!["restart"]!["backoff"]);
        Assert.Equal("http", (string?)json["task"]!["health"]!["kind"]);
        Assert.Equal("1s500ms", (string?)json["task"]!["health"]!["start_period"]);
    }

    [Fact]
    public void ServiceSpec_RoundTrips()
    {
        var spec = Spec();

        var back = JsonSerializer.Deserialize(JsonSerializer.Serialize(spec, CoreJson.Default.ServiceSpec), CoreJson.Default.ServiceSpec)!;

        Assert.Equal(JsonSerializer.Serialize(spec, CoreJson.Default.ServiceSpec), JsonSerializer.Serialize(back, CoreJson.Default.ServiceSpec));
        Assert.Equal(spec.Version, back.Version);
        Assert.Equal(TimeSpan.FromSeconds(90), back.Task.StopTimeout);
        Assert.Equal(RestartMode.OnFailure, back.Task.Restart.Mode);
    }

    [Fact]
    public void ServiceSpec_StoredByAnEarlierVersion_StillReads()
    {
        // As earlier versions stored it: TimeSpan's "c" format and PascalCase enums.
        const string old = """
            {"name":"web","stack":"shop","task":{"command":"corral","args":["demo-web"],"env":{},"stop_signal":"SIGTERM",
             "stop_timeout":"00:01:30","resources":{},"ports":["http"],"files":[],
             "restart":{"mode":"OnFailure","max_attempts":5,"window":"00:05:00","backoff":"00:00:00.5000000","max_backoff":"00:00:30","jitter":0.1},
             "health":{"kind":"Http","path":"/health","command":[],"interval":"00:00:02","timeout":"00:00:01","retries":3,"start_period":"00:00:01.5000000"}},
             "mode":"Replicated","replicas":3,"placement":{"labels":{}},"eviction_timeout":"00:00:30","fence_after":"00:00:10","restarts":0}
            """;

        var spec = JsonSerializer.Deserialize(old, CoreJson.Default.ServiceSpec)!;

        Assert.Equal(Spec(), spec);
        Assert.Equal(RestartMode.OnFailure, spec.Task.Restart.Mode);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), spec.Task.Health!.StartPeriod);
    }

    [Theory]
    [InlineData("\"on-failure\"")]
    [InlineData("\"OnFailure\"")]
    [InlineData("\"on_failure\"")]
    [InlineData("\"ON-FAILURE\"")]
    [InlineData("1")]
    public void Enum_ReadsEveryForm(string json)
    {
        Assert.Equal(RestartMode.OnFailure, JsonSerializer.Deserialize(json, CoreJson.Default.RestartMode));
    }

    [Theory]
    [InlineData("\"sometimes\"")]
    [InlineData("\"\"")]
    [InlineData("7")]
    public void Enum_UnknownName_IsAJsonErrorListingTheNames(string json)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, CoreJson.Default.RestartMode));
        Assert.Contains("always, on-failure, never", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"30s\"", 30_000)]
    [InlineData("\"1m30s\"", 90_000)]
    [InlineData("\"500ms\"", 500)]
    [InlineData("\"0\"", 0)]
    [InlineData("\"00:00:30\"", 30_000)]
    [InlineData("\"1.02:00:00\"", 93_600_000)]
    [InlineData("\"00:00:00.2500000\"", 250)]
    [InlineData("\"-00:00:05\"", -5_000)]
    [InlineData("\"-5s\"", -5_000)]
    [InlineData("2.5", 2_500)]
    public void Duration_ReadsEveryForm(string json, long ms)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(ms), JsonSerializer.Deserialize(json, CoreJson.Default.TimeSpan));
    }

    [Theory]
    [InlineData(30_000_0000L, "30s")]
    [InlineData(90_000_0000L, "1m30s")]
    [InlineData(5_000L, "0.5ms")]
    [InlineData(10_002_500L, "1s0.25ms")]
    [InlineData(0L, "0s")]
    [InlineData(-5_000_0000L, "-5s")]
    public void Duration_WritesTheStackFileForm_AndRoundTripsExactly(long ticks, string expected)
    {
        var value = TimeSpan.FromTicks(ticks);

        var json = JsonSerializer.Serialize(value, CoreJson.Default.TimeSpan);

        Assert.Equal($"\"{expected}\"", json);
        Assert.Equal(value, JsonSerializer.Deserialize(json, CoreJson.Default.TimeSpan));
    }

    [Fact]
    public void Duration_Malformed_IsAJsonErrorSayingWhatIsExpected()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("\"10x\"", CoreJson.Default.TimeSpan));
        Assert.Contains("unknown unit 'x'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MultiWordEnum_IsKebabCase_AsInStackFiles()
    {
        var change = new ServiceChange("gone", ServiceChangeKind.KeptNotInFile, "");

        var json = JsonNode.Parse(JsonSerializer.Serialize(new DeployResult("shop", [change], false, 1), CoreJson.Default.DeployResult))!;

        Assert.Equal("kept-not-in-file", (string?)json["changes"]![0]!["kind"]);
    }

    [Fact]
    public void AlarmSeverity_KeepsItsNames()
    {
        Assert.Equal("\"warning\"", JsonSerializer.Serialize(AlarmSeverity.Warning, CoreJson.Default.AlarmSeverity));
        Assert.Equal(AlarmSeverity.Critical, JsonSerializer.Deserialize("\"Critical\"", CoreJson.Default.AlarmSeverity));
    }

    [Fact]
    public void NodeAndReplicaStates_AreLowerCase()
    {
        Assert.Equal("\"ready\"", JsonSerializer.Serialize(NodeStatus.Ready, CoreJson.Default.NodeStatus));
        Assert.Equal("\"assigned\"", JsonSerializer.Serialize(ReplicaPhase.Assigned, CoreJson.Default.ReplicaPhase));
        Assert.Equal("\"unhealthy\"", JsonSerializer.Serialize(ReplicaState.Unhealthy, CoreJson.Default.ReplicaState));
    }

    /// <summary>Every enum of Core carries the converter, so no serializer (the API's, the agent's files) writes another form.</summary>
    [Fact]
    public void EveryCoreEnum_CarriesTheEnumConverter()
    {
        var enums = typeof(CoreJson).Assembly.GetTypes().Where(t => t.IsEnum && t.IsPublic).ToList();

        Assert.NotEmpty(enums);
        Assert.All(enums, e =>
        {
            var attribute = e.GetCustomAttributes(typeof(JsonConverterAttribute), false).Cast<JsonConverterAttribute>().SingleOrDefault();
            Assert.True(attribute?.ConverterType == typeof(EnumJsonConverter<>).MakeGenericType(e), $"{e.Name} lacks [JsonConverter(typeof(EnumJsonConverter<{e.Name}>))]");
        });
    }

    /// <summary>
    /// A service's version is a hash of its spec: it must not change with the JSON forms, or every replica of every
    /// service would be replaced after an upgrade. Pinned to the value earlier versions computed.
    /// </summary>
    [Fact]
    public void ServiceVersion_IsThatOfEarlierVersions()
    {
        Assert.Equal("0cc6c53a1f7b", Spec().Version);
    }
}
