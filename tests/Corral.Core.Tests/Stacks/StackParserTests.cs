using Corral.Core.Services;
using Corral.Core.Stacks;
using Corral.Core.Tasks;

namespace Corral.Core.Tests.Stacks;

public class StackParserTests
{
    private const string Shop = """
        stack: shop
        services:
          web:
            command: corral
            args: [demo-web, --port, "${PORT}"]
            replicas: 3
            ports: [http]
            health: { http: /health, interval: 2s, timeout: 1s, retries: 3, start_period: 5s }
            restart: { policy: always, max_attempts: 5, window: 5m, backoff: 1s, max_backoff: 30s }
            resources: { cpu: 0.5, memory: 256M }
            placement: { labels: { zone: a }, max_per_node: 1 }
            eviction_timeout: 30s
            env: { LOG_LEVEL: info, WORKERS: 4 }
          locker:
            command: /opt/app/locker
            replicas: 1
            placement: { node: point-b }
            fence_after: 10s
            stop_signal: SIGINT
            stop_timeout: 15s
            files:
              - { path: conf/locker.ini, content: "a=1", mode: "0600" }
          agentd:
            command: /usr/bin/agentd
            mode: global
        """;

    [Fact]
    public void Parse_DesignExample_GivesEveryField()
    {
        var result = StackParser.Parse(Shop, "shop.yaml");

        Assert.Empty(result.Errors);
        var stack = Assert.IsType<StackSpec>(result.Stack);
        Assert.Equal("shop", stack.Name);
        Assert.Equal(["web", "locker", "agentd"], stack.Services.Select(s => s.Name));

        var web = stack.Services[0];
        Assert.Equal("shop", web.Stack);
        Assert.Equal(3, web.Replicas);
        Assert.Equal(["demo-web", "--port", "${PORT}"], web.Task.Args);
        Assert.Equal(["http"], web.Task.Ports);
        Assert.Equal(HealthCheckKind.Http, web.Task.Health!.Kind);
        Assert.Equal("/health", web.Task.Health.Path);
        Assert.Equal(TimeSpan.FromSeconds(5), web.Task.Health.StartPeriod);
        Assert.Equal(RestartMode.Always, web.Task.Restart.Mode);
        Assert.Equal(TimeSpan.FromMinutes(5), web.Task.Restart.Window);
        Assert.Equal(256L * 1024 * 1024, web.Task.Resources.MemoryBytes);
        Assert.Equal(0.5, web.Task.Resources.Cpu);
        Assert.Equal("a", web.Placement.Labels["zone"]);
        Assert.Equal(1, web.Placement.MaxPerNode);
        Assert.Equal("4", web.Task.Env["WORKERS"]);

        var locker = stack.Services[1];
        Assert.True(locker.IsSingleton);
        Assert.Equal("point-b", locker.Placement.Node);
        Assert.Equal(TimeSpan.FromSeconds(10), locker.EffectiveFenceAfter);
        Assert.Equal("SIGINT", locker.Task.StopSignal);
        Assert.Equal(new TaskFile("conf/locker.ini", "a=1", 0x180), locker.Task.Files.Single());

        var agentd = stack.Services[2];
        Assert.Equal(ServiceMode.Global, agentd.Mode);
        Assert.False(agentd.IsSingleton);
    }

    [Fact]
    public void Parse_UnknownField_SuggestsTheClosestName()
    {
        var result = StackParser.Parse("""
            stack: shop
            services:
              web:
                command: corral
                replica: 3
            """, "shop.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Null(result.Stack);
        Assert.Equal("shop.yaml:5:5: services.web.replica: unknown field 'replica' — did you mean 'replicas'?", error.ToString());
    }

    [Fact]
    public void Parse_ManyErrors_ReportsEveryOneWithItsLocation()
    {
        var result = StackParser.Parse("""
            stack: Shop
            services:
              web:
                replicas: -1
                health: { http: health, interval: 2x }
                resources: { memory: 12Q }
                restart: { policy: allways }
                stop_signal: SIGFOO
                eviction_timeout: 1s
            """, "bad.yaml");

        var fields = result.Errors.Select(e => e.Field).ToList();
        Assert.Contains("stack", fields);
        Assert.Contains("services.web.replicas", fields);
        Assert.Contains("services.web.health.http", fields);
        Assert.Contains("services.web.health.interval", fields);
        Assert.Contains("services.web.resources.memory", fields);
        Assert.Contains("services.web.restart.policy", fields);
        Assert.Contains("services.web.stop_signal", fields);
        Assert.Contains("services.web.eviction_timeout", fields);
        Assert.Contains("services.web.command", fields);
        Assert.All(result.Errors, e => Assert.Equal("bad.yaml", e.File));
        var replicas = result.Errors.Single(e => e.Field == "services.web.replicas");
        Assert.Equal((4, 15), (replicas.Line, replicas.Column));
        Assert.Contains("allowed 0–1000", replicas.Message, StringComparison.Ordinal);
        Assert.Contains("allowed 2s–5m", result.Errors.Single(e => e.Field == "services.web.eviction_timeout").Message, StringComparison.Ordinal);
        Assert.Contains("did you mean", result.Errors.Single(e => e.Field == "services.web.restart.policy").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FenceAfterNotBelowEviction_IsRefused()
    {
        var result = StackParser.Parse("""
            stack: s
            services:
              locker: { command: x, fence_after: 30s, eviction_timeout: 30s }
            """, "s.yaml");

        Assert.Contains("must be less than eviction_timeout (30s)", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 22 item 2: this stack was accepted (the old rule, fence_after + stop_timeout &lt; heartbeat_grace +
    /// eviction_timeout, held: 12 s &lt; 13 s), but the leader replaces a singleton eviction_timeout after the node's last
    /// heartbeat, not heartbeat_grace later, so the old instance was still in its stop when the new one started.
    /// </summary>
    [Fact]
    public void Parse_SingletonWhoseStopOutlastsTheEviction_IsRefusedWithTheSumAndTheFix()
    {
        var result = StackParser.Parse("""
            stack: s
            services:
              locker:
                command: x
                replicas: 1
                fence_after: 6s
                stop_timeout: 6s
                eviction_timeout: 8s
            """, "s.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal("services.locker.fence_after", error.Field);
        Assert.Equal(6, error.Line);
        Assert.Contains("a singleton could run twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("fence_after 6s + 500ms (supervisor) + stop_timeout 6s = 12s500ms", error.Message, StringComparison.Ordinal);
        Assert.Contains("raise eviction_timeout to 13s500ms or more", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fence_after: 6s|stop_timeout: 6s|eviction_timeout: 14s", true)]
    [InlineData("fence_after: 6s|stop_timeout: 6s|eviction_timeout: 13s", false)]
    [InlineData("stop_timeout: 6s|eviction_timeout: 8s", false)]
    [InlineData("stop_timeout: 2s|eviction_timeout: 7s", true)]
    [InlineData("fence_after: 2s|eviction_timeout: 30s", false)]
    public void Parse_SingletonTiming_AcceptedExactlyWhenTheOldInstanceIsGoneAMarginBeforeTheEviction(string settings, bool accepted)
    {
        var yaml = "stack: s\nservices:\n  locker:\n    command: x\n    " + settings.Replace("|", "\n    ", StringComparison.Ordinal) + "\n";
        var result = StackParser.Parse(yaml, "s.yaml");
        Assert.True(accepted == (result.Errors.Count == 0), string.Join("; ", result.Errors));
        if (accepted)
        {
            var locker = result.Stack!.Services[0];
            var gone = SingletonTiming.OldInstanceGoneBy(locker.EffectiveFenceAfter, locker.Task.StopTimeout);
            Assert.True(gone + SingletonTiming.Margin <= locker.EvictionTimeout);
            Assert.True(locker.EffectiveFenceAfter >= SingletonTiming.MinFenceAfter);
        }
    }

    [Fact]
    public void Parse_ReplicatedServiceWithTheSameTiming_IsAccepted_OnlySingletonsAreBound()
    {
        var result = StackParser.Parse("stack: s\nservices:\n  web:\n    command: x\n    replicas: 3\n    stop_timeout: 6s\n    eviction_timeout: 3s\n", "s.yaml");
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_GlobalWithReplicas_IsRefused()
    {
        var result = StackParser.Parse("""
            stack: s
            services:
              a: { command: x, mode: global, replicas: 2 }
            """, "s.yaml");

        Assert.Equal("services.a.replicas", Assert.Single(result.Errors).Field);
    }

    [Fact]
    public void Parse_HealthWithoutPort_IsRefused()
    {
        var result = StackParser.Parse("""
            stack: s
            services:
              a: { command: x, health: { tcp: true } }
            """, "s.yaml");

        Assert.Contains("needs a port", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FileEscapingTaskDir_IsRefused()
    {
        var result = StackParser.Parse("""
            stack: s
            services:
              a:
                command: x
                files: [{ path: ../etc/passwd, content: x }]
            """, "s.yaml");

        Assert.Contains("stay inside the task directory", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidYaml_GivesTheLocation()
    {
        var result = StackParser.Parse("stack: s\nservices:\n  a: { command: x\n", "s.yaml");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line >= 3);
    }

    [Fact]
    public void Parse_Empty_SaysSo() =>
        Assert.Contains("empty", Assert.Single(StackParser.Parse("", "e.yaml").Errors).Message, StringComparison.Ordinal);

    [Fact]
    public void Version_IgnoresReplicasButNotTheCommand()
    {
        var a = StackParser.Parse(Shop, "a.yaml").Stack!.Services[0];
        var scaled = StackParser.Parse(Shop.Replace("replicas: 3", "replicas: 5", StringComparison.Ordinal), "a.yaml").Stack!.Services[0];
        var changed = StackParser.Parse(Shop.Replace("LOG_LEVEL: info", "LOG_LEVEL: debug", StringComparison.Ordinal), "a.yaml").Stack!.Services[0];

        Assert.Equal(a.Version, scaled.Version);
        Assert.NotEqual(a, scaled);
        Assert.NotEqual(a.Version, changed.Version);
        Assert.Equal(a, StackParser.Parse(Shop, "b.yaml").Stack!.Services[0]);
    }

    [Theory]
    [InlineData("replica", "replicas")]
    [InlineData("comand", "command")]
    [InlineData("evicton_timeout", "eviction_timeout")]
    [InlineData("zzzzzz", null)]
    public void Suggest_FindsCloseNamesOnly(string input, string? expected) =>
        Assert.Equal(expected, StackParser.Suggest(input, ["replicas", "command", "eviction_timeout", "env"]));

    /// <summary>Issue 12 defect 2: YamlDotNet threw InvalidOperationException from ScanPlainScalar, which escaped as a 500.</summary>
    [Theory]
    [InlineData("stack: s\nservices:\n  web:\n    command: python3\n    args: [-m, http.server\n    replicas: 2\n    ports: [http]\n")]
    [InlineData("stack: s\nservices:\n  web: {command: x, args: [a\n")]
    [InlineData("stack: s\nservices:\n  web:\n    command: \"x\n")]
    [InlineData("stack: s\nservices:\n  web:\n    command: x\n    args: [a, {b: [c\n    env: {}\n")]
    public void Parse_UnclosedFlowOrQuote_IsAnErrorWithALine(string yaml)
    {
        var result = StackParser.Parse(yaml, "s.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("YAML", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line >= 1, error.ToString());
    }

    /// <summary>Issue 12 defect 3: aliases are bounded by what they expand to, before anything is built.</summary>
    [Fact]
    public void Parse_AliasBombs_AreRefusedAtTheAliasThatCrossesTheBound()
    {
        var laughs = new System.Text.StringBuilder("stack: s\na0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
        for (var i = 1; i < 10; i++)
        {
            laughs.Append($"a{i}: &a{i} [").AppendJoin(", ", Enumerable.Repeat($"*a{i - 1}", 10)).Append("]\n");
        }
        laughs.Append("services:\n  web:\n    command: x\n    args: *a9\n");

        var result = StackParser.Parse(laughs.ToString(), "s.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("with its aliases expanded", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Line, 6, 8);
    }

    [Theory]
    [InlineData("stack: s\nservices:\n  web: &w\n    command: x\n    args: [*w]\n", "inside the node it refers to")]
    [InlineData("stack: s\nservices:\n  web:\n    command: *nope\n", "refers to no anchor")]
    public void Parse_AliasesToNothingOrToThemselves_AreRefused(string yaml, string message)
    {
        var error = Assert.Single(StackParser.Parse(yaml, "s.yaml").Errors);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingDeeperThanTheLimit_IsRefusedNotACrash()
    {
        var yaml = "stack: s\nservices:\n  web:\n    command: x\n    args: " + new string('[', 100_000) + new string(']', 100_000) + "\n";

        var error = Assert.Single(StackParser.Parse(yaml, "s.yaml").Errors);

        Assert.Contains($"nested more than {StackParser.MaxDepth} levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReasonableAliases_StillWork()
    {
        var yaml = "stack: s\nx-env: &env { A: \"1\", B: \"2\" }\nservices:\n  web:\n    command: x\n    env: *env\n  api:\n    command: y\n    env: *env\n";
        var result = StackParser.Parse("stack: s\nservices:\n  web:\n    command: x\n    env: &env { A: \"1\" }\n  api:\n    command: y\n    env: *env\n", "s.yaml");

        Assert.Empty(result.Errors);
        Assert.Equal("1", result.Stack!.Services.Single(s => s.Name == "api").Task.Env["A"]);
        Assert.NotEmpty(StackParser.Parse(yaml, "s.yaml").Errors); // x-env is not a stack field, aliases or not
    }

    /// <summary>Issue 12 defect 4: NUL was accepted in command and env values (env silently cut at the NUL).</summary>
    [Theory]
    [InlineData("    command: \"/bin/sh\\0x\"\n", "services.web.command", "control characters")]
    [InlineData("    command: \"/bin/sh\\nrm\"\n", "services.web.command", "control characters")]
    [InlineData("    command: x\n    env: { A: \"se\\0cret\" }\n", "services.web.env.A", "NUL")]
    [InlineData("    command: x\n    args: [\"a\\0b\"]\n", "services.web.args[0]", "NUL")]
    [InlineData("    command: x\n    user: \"root\\x01\"\n", "services.web.user", "control characters")]
    [InlineData("    command: x\n    files: [{ path: \"a\\tb\", content: x }]\n", "services.web.files[0].path", "control characters")]
    public void Parse_ControlCharactersWhereTheyCannotBe_AreRefused(string fields, string field, string message)
    {
        var error = Assert.Single(StackParser.Parse("stack: s\nservices:\n  web:\n" + fields, "s.yaml").Errors);

        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EnvValueWithNewline_IsKept()
    {
        var result = StackParser.Parse("stack: s\nservices:\n  web:\n    command: x\n    env: { PEM: \"a\\nb\" }\n", "s.yaml");

        Assert.Equal("a\nb", result.Stack!.Services[0].Task.Env["PEM"]);
    }

    /// <summary>Issue 12 defect 2: a service the store cannot keep (over 1 MiB) is refused at the largest field.</summary>
    [Fact]
    public void Parse_ServiceOverTheStoredLimit_NamesTheLargestField()
    {
        var yaml = "stack: s\nservices:\n  web:\n    command: x\n    env: { SMALL: \"" + new string('e', 400_000) + "\" }\n    files:\n      - { path: a, content: \"" + new string('f', 700_000) + "\" }\n";

        var error = Assert.Single(StackParser.Parse(yaml, "s.yaml").Errors);

        Assert.Equal("services.web.files[0].content", error.Field);
        Assert.Contains("at most 1 MiB", error.Message, StringComparison.Ordinal);
    }
}
