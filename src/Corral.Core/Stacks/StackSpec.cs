using Corral.Core.Services;

namespace Corral.Core.Stacks;

/// <summary>A parsed, valid stack: a name and its services, in file order.</summary>
public sealed record StackSpec(string Name, IReadOnlyList<ServiceSpec> Services);

/// <summary>The outcome of parsing a stack file: a stack when there are no errors, otherwise every error found.</summary>
public sealed record StackParseResult(StackSpec? Stack, IReadOnlyList<StackError> Errors)
{
    public bool Succeeded => Stack is not null && Errors.Count == 0;
}
