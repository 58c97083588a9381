namespace Corral.Core.Stacks;

/// <summary>One problem in a stack file, located by file, line, column and field path.</summary>
/// <param name="File">The file name as given to the parser.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Field">Dotted path of the field, e.g. <c>services.web.replicas</c>; empty for the document.</param>
/// <param name="Message">What is wrong and, where possible, what would be right.</param>
public sealed record StackError(string File, int Line, int Column, string Field, string Message)
{
    public override string ToString() =>
        Field.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Field}: {Message}";
}
