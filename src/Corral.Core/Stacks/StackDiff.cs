using Corral.Core.Api;
using Corral.Core.Services;

namespace Corral.Core.Stacks;

/// <summary>What deploying a stack would change, and the services it may not touch.</summary>
/// <param name="Changes">One change per service of the file (in file order), then the stack's services not in the file.</param>
/// <param name="Conflicts">Services of the file that already belong to another stack: the deploy is refused.</param>
public sealed record StackDiffResult(IReadOnlyList<ServiceChange> Changes, IReadOnlyList<string> Conflicts)
{
    /// <summary>True when applying it would write anything.</summary>
    public bool Changed => Changes.Any(c => c.Kind is ServiceChangeKind.Create or ServiceChangeKind.Update or ServiceChangeKind.Scale or ServiceChangeKind.Remove);
}

/// <summary>Compares a parsed stack with the services in the cluster. Pure.</summary>
public static class StackDiff
{
    public static StackDiffResult Compute(StackSpec stack, IReadOnlyCollection<ServiceSpec> existing, bool prune)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(existing);
        var byName = existing.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var changes = new List<ServiceChange>();
        var conflicts = new List<string>();
        foreach (var service in stack.Services)
        {
            if (!byName.TryGetValue(service.Name, out var current))
            {
                changes.Add(new ServiceChange(service.Name, ServiceChangeKind.Create, Describe(service)));
                continue;
            }
            if (!string.Equals(current.Stack, stack.Name, StringComparison.Ordinal))
            {
                conflicts.Add($"service '{service.Name}' already belongs to stack '{current.Stack}'");
                continue;
            }
            var incoming = service with { Restarts = current.Restarts };
            if (!string.Equals(current.Version, incoming.Version, StringComparison.Ordinal))
            {
                changes.Add(new ServiceChange(service.Name, ServiceChangeKind.Update,
                    $"version {current.Version} → {incoming.Version}" + (current.Replicas != incoming.Replicas ? $", replicas {current.Replicas} → {incoming.Replicas}" : "")));
            }
            else if (current.Replicas != incoming.Replicas)
            {
                changes.Add(new ServiceChange(service.Name, ServiceChangeKind.Scale, $"replicas {current.Replicas} → {incoming.Replicas}"));
            }
            else
            {
                changes.Add(new ServiceChange(service.Name, ServiceChangeKind.Unchanged, $"version {current.Version}"));
            }
        }
        var inFile = stack.Services.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var service in existing.Where(s => s.Stack == stack.Name && !inFile.Contains(s.Name)).OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            changes.Add(prune
                ? new ServiceChange(service.Name, ServiceChangeKind.Remove, "not in the file (--prune)")
                : new ServiceChange(service.Name, ServiceChangeKind.KeptNotInFile, "not in the file; kept (use --prune to remove)"));
        }
        return new StackDiffResult(changes, conflicts);
    }

    private static string Describe(ServiceSpec service) =>
        service.Mode == ServiceMode.Global ? "global" : $"{service.Replicas} replica{(service.Replicas == 1 ? "" : "s")}";
}
