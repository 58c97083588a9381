using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Corral.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Corral.Cli;

/// <summary>
/// <c>corral demo-web</c>: a tiny HTTP service for tests, docs and <c>corral dev</c>. <c>/</c> answers with its name,
/// pid, hostname and uptime; <c>/health</c> with 200 <c>ok</c>, or 503 once <c>--fail-health-after</c> has passed or
/// after <c>POST /fail</c> (until <c>POST /recover</c>). With <c>--crash-after</c> it exits with
/// <c>--crash-exit-code</c> after that delay. SIGTERM or SIGINT make it exit 0 at once.
/// </summary>
internal static class DemoWebCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on.", Required = true };
        var host = new Option<string>("--host")
        {
            Description = "Address to listen on.",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var failHealthAfter = DurationOption("--fail-health-after", "Answer 503 on /health once this long has passed (e.g. 10s).");
        var crashAfter = DurationOption("--crash-after", "Exit with --crash-exit-code once this long has passed (e.g. 30s).");
        var crashExitCode = new Option<int>("--crash-exit-code")
        {
            Description = "Exit code of the crash.",
            DefaultValueFactory = _ => 1,
        };
        var name = new Option<string>("--name")
        {
            Description = "Name shown on /.",
            DefaultValueFactory = _ => "demo-web",
        };

        var command = new Command("demo-web", "Run a tiny HTTP service with / and /health, for tests and demos.")
        {
            port, host, failHealthAfter, crashAfter, crashExitCode, name,
        };
        port.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value is < 0 or > 65535)
            {
                result.AddError($"--port must be between 0 and 65535, got {value}");
            }
        });
        host.Validators.Add(result =>
        {
            var address = result.GetValueOrDefault<string>();
            if (address != "localhost" && !IPAddress.TryParse(address, out _))
            {
                result.AddError($"--host must be an IP address or localhost, got '{address}'");
            }
        });
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            new Settings(
                parseResult.GetValue(port),
                parseResult.GetValue(host)!,
                parseResult.GetValue(failHealthAfter),
                parseResult.GetValue(crashAfter),
                parseResult.GetValue(crashExitCode),
                parseResult.GetValue(name)!),
            cancellationToken));
        return command;
    }

    private static Option<TimeSpan?> DurationOption(string optionName, string description) => new(optionName)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (Durations.TryParse(text, out var value, out var error))
            {
                return value;
            }
            result.AddError($"{optionName}: {error}");
            return null;
        },
    };

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var health = new HealthSwitch();

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options =>
        {
            if (settings.Host == "localhost")
            {
                options.ListenLocalhost(settings.Port);
            }
            else
            {
                options.Listen(IPAddress.Parse(settings.Host), settings.Port);
            }
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        await using var app = builder.Build();

        bool Healthy() => health.Override ?? !(settings.FailHealthAfter is { } after && started.Elapsed >= after);

        app.MapGet("/", () => Results.Text(string.Create(
            CultureInfo.InvariantCulture,
            $"name: {settings.Name}\npid: {Environment.ProcessId}\nhostname: {Environment.MachineName}\nuptime: {Durations.Format(started.Elapsed)}\n")));
        app.MapGet("/health", () => Healthy() ? Results.Text("ok\n") : Results.Text("unhealthy\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapPost("/fail", () =>
        {
            health.Override = false;
            return Results.Text("failing\n");
        });
        app.MapPost("/recover", () =>
        {
            health.Override = true;
            return Results.Text("ok\n");
        });

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"demo-web: cannot listen on {settings.Host}:{settings.Port}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }

        Console.WriteLine($"demo-web {settings.Name} (pid {Environment.ProcessId}) listening on http://{settings.Host}:{settings.Port}");
        var crashed = false;
        try
        {
            var crashDelay = settings.CrashAfter ?? Timeout.InfiniteTimeSpan;
            await Task.Delay(crashDelay, stopping.Token).ConfigureAwait(false);
            crashed = true;
        }
        catch (OperationCanceledException)
        {
        }

        if (crashed)
        {
            await Console.Error.WriteLineAsync($"demo-web {settings.Name}: crashing with exit code {settings.CrashExitCode} after {Durations.Format(started.Elapsed)}").ConfigureAwait(false);
            return settings.CrashExitCode;
        }

        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }

    private sealed record Settings(int Port, string Host, TimeSpan? FailHealthAfter, TimeSpan? CrashAfter, int CrashExitCode, string Name);

    private sealed class HealthSwitch
    {
        // 0: no override; 1: healthy; 2: failing. Volatile so request threads see the latest toggle.
        private volatile int _override;

        /// <summary>Set by POST /fail (false) and POST /recover (true); wins over --fail-health-after.</summary>
        public bool? Override
        {
            get => _override switch { 1 => true, 2 => false, _ => null };
            set => _override = value switch { true => 1, false => 2, null => 0 };
        }
    }
}
