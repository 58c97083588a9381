using System.Text.Json;
using Corral.Core.Tasks;

namespace Corral.Agent.Runtime;

/// <summary>
/// The JSON file <c>corral agent --tasks FILE</c> runs until the control plane assigns replicas: an object
/// mapping task id to <see cref="TaskSpec"/> (snake_case fields, durations like <c>"10s"</c>).
/// </summary>
public static class TasksFile
{
    /// <summary>Reads the file; throws <see cref="FormatException"/> naming the file and the problem.</summary>
    public static IReadOnlyDictionary<string, TaskSpec> Load(string path)
    {
        try
        {
            var tasks = JsonSerializer.Deserialize<Dictionary<string, TaskSpec>>(File.ReadAllBytes(path), AgentJson.Options)
                ?? throw new FormatException($"{path}: expected an object of task id to task spec");
            return tasks;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }
}
