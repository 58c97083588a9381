using Corral.Agent.Runtime;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Runtime;

public sealed class TasksFileTests
{
    [Fact]
    public void Load_FieldsLeftOut_KeepTheirDefaults()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("tasks.json");
        File.WriteAllText(path, """
            {
              "minimal": { "command": "/bin/true" },
              "full": {
                "command": "corral", "args": ["demo-web", "--port", "${PORT}"], "ports": ["http"],
                "stop_timeout": "30s", "stop_signal": "SIGINT", "user": "nobody",
                "resources": { "memory_bytes": 268435456, "cpu": 0.5 },
                "restart": { "mode": "on-failure", "max_attempts": 3, "backoff": "500ms" },
                "health": { "kind": "http", "path": "/health", "interval": "1s" },
                "files": [ { "path": "conf/app.ini", "content": "x=1" } ]
              }
            }
            """);

        var tasks = TasksFile.Load(path);

        var minimal = tasks["minimal"];
        Assert.Equal("SIGTERM", minimal.StopSignal);
        Assert.Equal(TimeSpan.FromSeconds(10), minimal.StopTimeout);
        Assert.Equal(RestartPolicy.Default, minimal.Restart);
        Assert.Empty(minimal.Args);
        Assert.Empty(minimal.Ports);
        Assert.Equal(ResourceLimits.None, minimal.Resources);
        var full = tasks["full"];
        Assert.Equal(TimeSpan.FromSeconds(30), full.StopTimeout);
        Assert.Equal(268435456, full.Resources.MemoryBytes);
        Assert.Equal(0.5, full.Resources.Cpu);
        Assert.Equal(RestartMode.OnFailure, full.Restart.Mode);
        Assert.Equal(TimeSpan.FromMilliseconds(500), full.Restart.Backoff);
        Assert.Equal(TimeSpan.FromSeconds(30), full.Restart.MaxBackoff);
        Assert.Equal(HealthCheckKind.Http, full.Health!.Kind);
        Assert.Equal(3, full.Health.Retries);
        Assert.Equal(TimeSpan.FromSeconds(1), full.Health.Interval);
        Assert.Equal(420, full.Files[0].Mode);
    }

    [Fact]
    public void Load_Malformed_NamesTheFile()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("tasks.json");
        File.WriteAllText(path, """{ "a": { "command": "x", "stop_timeout": "ten seconds" } }""");

        var error = Assert.Throws<FormatException>(() => TasksFile.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expand_KnownUnknownAndEscaped_ExpandsOrNamesTheVariable()
    {
        var vars = new Dictionary<string, string> { ["PORT"] = "20001", ["CORRAL_PORT_ADMIN"] = "20002" };

        Assert.Equal("--port=20001 --admin 20002", ArgumentExpander.Expand("--port=${PORT} --admin ${CORRAL_PORT_ADMIN}", vars));
        Assert.Equal("cost $5 ${PORT}", ArgumentExpander.Expand("cost $5 $${PORT}", vars));
        Assert.Contains("unknown variable ${NOPE}", Assert.Throws<ArgumentException>(() => ArgumentExpander.Expand("${NOPE}", vars)).Message, StringComparison.Ordinal);
        Assert.Contains("unclosed", Assert.Throws<ArgumentException>(() => ArgumentExpander.Expand("${PORT", vars)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrepareTaskDirectory_PathsEscaping_RefusedBeforeWritingAnything()
    {
        using var dir = new TempDirectory();
        var taskDir = dir.Combine("task");
        Directory.CreateDirectory(dir.Combine("elsewhere"));
        Directory.CreateDirectory(taskDir);
        Directory.CreateSymbolicLink(Path.Combine(taskDir, "link"), dir.Combine("elsewhere"));

        TaskDirectory.Prepare(taskDir, [new TaskFile("conf/app.ini", "x=1", 416)]);
        Assert.Equal("x=1", File.ReadAllText(Path.Combine(taskDir, "conf", "app.ini")));
        Assert.Equal((UnixFileMode)416, File.GetUnixFileMode(Path.Combine(taskDir, "conf", "app.ini")));

        foreach (var bad in new[] { "../x", "/etc/passwd", "a/../../x", "link/x" })
        {
            var error = Assert.Throws<ArgumentException>(() => TaskDirectory.Prepare(taskDir, [new TaskFile("ok.txt", "fine"), new TaskFile(bad, "evil")]));
            Assert.Contains(bad, error.Message, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(Path.Combine(taskDir, "ok.txt")));
        Assert.Empty(Directory.GetFiles(dir.Combine("elsewhere")));
    }
}
