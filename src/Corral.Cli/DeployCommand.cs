using System.CommandLine;
using System.Globalization;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>
/// <c>corral deploy -f FILE [--prune] [--detach] [--timeout 5m]</c>: applies a stack file, prints what changed, then
/// (unless <c>--detach</c>) shows progress until every replica of the file's services runs the current version and
/// is healthy. When <c>--timeout</c> passes first it lists the replicas that are not ready and why, and exits
/// <see cref="ExitCodes.DeployTimedOut"/>.
/// </summary>
internal static class DeployCommand
{
    /// <summary>How often the services are read while a deploy converges.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var file = StackFileOption();
        var prune = PruneOption();
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once the deploy is applied; do not wait for replicas." };
        var timeout = DurationOption("--timeout", "How long to wait for every replica to be running and healthy (e.g. 90s, 5m).", TimeSpan.FromMinutes(5));
        var command = new Command("deploy", "Deploy a stack file: create, update, scale (and with --prune remove) its services, then wait until they are healthy.")
        {
            file, prune, detach, timeout,
        };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var output = context.Output;
            var path = context.Parse.GetValue(file)!;
            if (StackFileInput.Read(output, path, context.Parse.GetValue(prune)) is not { } request)
            {
                return ExitCodes.Failure;
            }
            var result = await context.Client.DeployAsync(request, cancellationToken).ConfigureAwait(false);
            if (output.Json)
            {
                output.WriteJson(result, CoreJson.Default.DeployResult);
            }
            else
            {
                StackFileInput.WriteChanges(output, result, request.File, applied: true);
            }
            if (context.Parse.GetValue(detach))
            {
                return ExitCodes.Ok;
            }
            var services = result.Changes
                .Where(c => c.Kind is not (ServiceChangeKind.Remove or ServiceChangeKind.KeptNotInFile))
                .Select(c => c.Service).ToList();
            return await WaitAsync(context, result.Stack, services, context.Parse.GetValue(timeout), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> WaitAsync(ClientAction.Context context, string stack, IReadOnlyList<string> services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var output = context.Output;
        // With -o json, standard output holds only the JSON result; progress goes to standard error.
        Action<string> progress = output.Json ? output.ErrorLine : output.Line;
        var time = TimeProvider.System;
        var started = time.GetTimestamp();
        string? last = null;
        IReadOnlyList<DeployProgress> state;
        while (true)
        {
            var views = await context.Client.ListServicesAsync(cancellationToken).ConfigureAwait(false);
            state = [.. services.Select(name => views.FirstOrDefault(v => v.Spec.Name == name) is { } view ? DeployProgress.Of(view) : DeployProgress.Missing(name))];
            if (state.All(p => p.Done))
            {
                var replicas = state.Sum(p => p.Desired);
                progress($"stack '{stack}': {replicas} replica{(replicas == 1 ? "" : "s")} of {services.Count} service{(services.Count == 1 ? "" : "s")} running and healthy ({time.GetElapsedTime(started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s)");
                return ExitCodes.Ok;
            }
            var summary = string.Join(", ", state.Select(p => $"{p.Service} {p.Ready}/{p.Desired}"));
            if (summary != last)
            {
                progress($"waiting for healthy replicas: {summary}");
                last = summary;
            }
            var remaining = timeout - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }
            await Task.Delay(remaining < PollInterval ? remaining : PollInterval, time, cancellationToken).ConfigureAwait(false);
        }

        output.Error.WriteLine($"corral: stack '{stack}' not ready after {Durations.Format(timeout)}; the deploy is applied and keeps converging:");
        foreach (var service in state.Where(p => !p.Done))
        {
            output.Error.WriteLine($"  {service.Service}: {service.Ready} of {service.Desired} healthy");
            foreach (var reason in service.NotReady)
            {
                output.Error.WriteLine("    " + reason);
            }
        }
        output.Error.Flush();
        return ExitCodes.DeployTimedOut;
    }

    internal static Option<string> StackFileOption() => new("--file", "-f")
    {
        Description = "The stack file (YAML); - reads standard input.",
        Required = true,
    };

    internal static Option<bool> PruneOption() => new("--prune")
    {
        Description = "Also remove the stack's services that are no longer in the file.",
    };

    private static Option<TimeSpan> DurationOption(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (Durations.TryParse(text, out var value, out var error))
            {
                return value;
            }
            result.AddError($"{name}: {error}");
            return defaultValue;
        },
    };
}
