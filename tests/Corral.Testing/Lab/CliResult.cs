namespace Corral.Testing.Lab;

/// <summary>The outcome of one <c>corral</c> run in a lab host: exit code, standard output, standard error.</summary>
public sealed record CliResult(int Code, string Out, string Error)
{
    public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}
