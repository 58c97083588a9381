using System.Text;
using Corral.Core.Api;

using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>Stack files for the tests: demo-web services run by this build's corral.dll, and shell workers.</summary>
internal static class Stacks
{
    /// <summary>A stack file named <paramref name="stack"/> holding the given service blocks.</summary>
    public static string Stack(string stack, params string[] services)
    {
        var text = new StringBuilder().Append("stack: ").Append(stack).Append('\n').Append("services:\n");
        foreach (var service in services)
        {
            text.Append(service);
        }
        return text.ToString();
    }

    /// <summary>A deploy request for <paramref name="yaml"/>, named like a file in the stack's name.</summary>
    public static DeployRequest Request(string yaml, bool prune = false) => new(yaml, "stack.yaml", prune);

    /// <summary>
    /// <c>corral demo-web</c> replicas with an HTTP health check on a named port, restarted always with a short backoff;
    /// <paramref name="extraArgs"/> go to demo-web (e.g. <c>--fail-health-after 0s</c>).
    /// </summary>
    public static string Web(string name, int replicas, IReadOnlyDictionary<string, string>? env = null, params string[] extraArgs)
    {
        var args = new[] { CorralBinary.Dll, "demo-web", "--port", "${PORT}", "--name", name }.Concat(extraArgs);
        var text = new StringBuilder()
            .Append("  ").Append(name).Append(":\n")
            .Append("    command: ").Append(Quote(CorralBinary.Dotnet)).Append('\n')
            .Append("    args: [").Append(string.Join(", ", args.Select(Quote))).Append("]\n")
            .Append("    replicas: ").Append(replicas).Append('\n')
            .Append("    ports: [http]\n")
            .Append("    health: { http: /health, interval: 1s, timeout: 1s, retries: 3, start_period: 1s }\n")
            .Append("    restart: { policy: always, backoff: 200ms, max_backoff: 2s }\n")
            .Append("    stop_timeout: 5s\n")
            .Append("    env: { DOTNET_NOLOGO: \"1\", DOTNET_TieredPGO: \"0\"");
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            text.Append(", ").Append(key).Append(": ").Append(Quote(value));
        }
        return text.Append(" }\n").ToString();
    }

    /// <summary>A shell worker that sleeps (no health check).</summary>
    public static string Worker(string name, int replicas) =>
        $"  {name}:\n    command: /bin/sh\n    args: [\"-c\", \"exec sleep 100000\"]\n    replicas: {replicas}\n    restart: {{ policy: always, backoff: 200ms }}\n    stop_timeout: 5s\n";

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
