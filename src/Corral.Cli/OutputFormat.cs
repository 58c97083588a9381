namespace Corral.Cli;

/// <summary>What <c>-o</c> asks for: human tables, or the API's JSON for scripts.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}
