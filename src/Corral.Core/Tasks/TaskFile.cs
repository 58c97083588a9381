namespace Corral.Core.Tasks;

/// <summary>A file written into the task directory before start.</summary>
/// <param name="Path">Relative path inside the task directory; may not escape it.</param>
/// <param name="Content">File content (UTF-8 text).</param>
/// <param name="Mode">Unix permission bits, e.g. 0644 (octal 420).</param>
public sealed record TaskFile(string Path, string Content, int Mode = 420);
