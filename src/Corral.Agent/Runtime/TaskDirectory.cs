using Corral.Core.Tasks;

namespace Corral.Agent.Runtime;

/// <summary>A task's directory on the node: its files, its working directory by default, and its logs (<c>logs/</c>).</summary>
public static class TaskDirectory
{
    /// <summary>
    /// Creates <paramref name="directory"/> and writes <paramref name="files"/> into it. A path that is absolute or
    /// that would leave the directory (<c>..</c>, or through a symbolic link) is refused with an
    /// <see cref="ArgumentException"/> naming it, before anything is written.
    /// </summary>
    public static void Prepare(string directory, IReadOnlyList<TaskFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        Directory.CreateDirectory(directory);
        var root = Path.GetFullPath(directory).TrimEnd('/') + "/";
        var targets = new List<(string Path, TaskFile File)>();
        foreach (var file in files)
        {
            if (string.IsNullOrWhiteSpace(file.Path) || Path.IsPathRooted(file.Path))
            {
                throw new ArgumentException($"task file path must be relative to the task directory: '{file.Path}'");
            }
            var full = Path.GetFullPath(Path.Combine(root, file.Path));
            if (!full.StartsWith(root, StringComparison.Ordinal))
            {
                throw new ArgumentException($"task file path escapes the task directory: '{file.Path}'");
            }
            // A symbolic link inside the directory could still point out of it.
            for (var dir = Path.GetDirectoryName(full); dir is not null && dir.Length >= root.Length; dir = Path.GetDirectoryName(dir))
            {
                if (new DirectoryInfo(dir).LinkTarget is not null)
                {
                    throw new ArgumentException($"task file path goes through a symbolic link: '{file.Path}'");
                }
            }
            if (File.Exists(full) && new FileInfo(full).LinkTarget is not null)
            {
                throw new ArgumentException($"task file path is a symbolic link: '{file.Path}'");
            }
            targets.Add((full, file));
        }
        foreach (var (path, file) in targets)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = path + ".corral-tmp";
            File.WriteAllText(temp, file.Content);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, (UnixFileMode)(file.Mode & 0xFFF));
            }
            File.Move(temp, path, overwrite: true);
        }
    }
}
