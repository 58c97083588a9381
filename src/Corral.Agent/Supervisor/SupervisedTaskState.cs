namespace Corral.Agent.Supervisor;

/// <summary>Where a task stands in the supervisor.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Corral.Core.EnumJsonConverter<SupervisedTaskState>))]
public enum SupervisedTaskState
{
    /// <summary>The process runs.</summary>
    Running,

    /// <summary>The process ended; exit code (and signal) are known.</summary>
    Exited,

    /// <summary>The process could not be started; <see cref="SupervisedTaskInfo.Error"/> says why.</summary>
    Failed,

    /// <summary>A previous supervisor instance ran it and died; its processes were killed when this instance started.</summary>
    Lost,
}
