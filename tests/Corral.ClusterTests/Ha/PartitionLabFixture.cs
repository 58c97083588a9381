using Corral.Testing.Lab;

namespace Corral.ClusterTests.Ha;

/// <summary>
/// A <see cref="ServerLab"/> (3 servers with managed etcd and the VIP, 3 agents, a client) with, beside its own stack, a
/// singleton watched by a <see cref="SingletonWitness"/> on the client host. The singleton ignores SIGTERM and has the
/// largest <c>fence_after</c> and <c>stop_timeout</c> that <c>deploy</c> accepts for its <c>eviction_timeout</c>
/// (<see cref="FenceAfter"/> + 500 ms + <see cref="StopTimeout"/> + 1 s = <see cref="Eviction"/>), so a stop takes
/// all of it and nothing is left to spare.
/// </summary>
public sealed class PartitionLabFixture : IAsyncLifetime
{
    /// <summary>The singleton's <c>eviction_timeout</c>.</summary>
    public static readonly TimeSpan Eviction = TimeSpan.FromSeconds(10);

    /// <summary>The singleton's <c>fence_after</c>.</summary>
    public static readonly TimeSpan FenceAfter = TimeSpan.FromSeconds(4);

    /// <summary>The singleton's <c>stop_timeout</c> (its program ignores SIGTERM, so every stop lasts this long).</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromMilliseconds(4500);

    /// <summary>The singleton service's name.</summary>
    public const string Singleton = "single";

    private ServerLab? _lab;
    private SingletonWitness? _witness;

    public ServerLab Lab => _lab ?? throw new InvalidOperationException("the lab did not start");

    public SingletonWitness Witness => _witness ?? throw new InvalidOperationException("the lab did not start");

    /// <summary>How many times each scenario repeats: <c>CORRAL_LAB_REPEAT</c> (default 1; the runs used 20).</summary>
    public static int Repeat => LabRepeat.Count(1);

    /// <summary>The seed of the random choices: <c>CORRAL_LAB_SEED</c>, or a new one (printed by each test).</summary>
    public static int Seed => LabRepeat.Seed;

    /// <summary>The singleton's stack with <paramref name="stopTimeout"/>.</summary>
    public static string StackYaml(string witnessDirectory, System.Net.IPAddress witness, TimeSpan stopTimeout) => $$"""
        stack: fence
        services:
          {{Singleton}}:
            command: /bin/bash
            args: ["-c", "{{SingletonWitness.Script(witness, witnessDirectory)}}"]
            replicas: 1
            restart: { policy: always, backoff: 200ms }
            fence_after: {{Corral.Core.Durations.Format(FenceAfter)}}
            stop_timeout: {{Corral.Core.Durations.Format(stopTimeout)}}
            eviction_timeout: {{Corral.Core.Durations.Format(Eviction)}}
        """;

    public async Task InitializeAsync()
    {
        _lab = await ServerLab.StartAsync();
        var directory = _lab.Scratch("witness");
        _witness = SingletonWitness.Start(_lab.Client, directory);
        // One millisecond more stop is refused: these are the largest settings deploy accepts.
        var refused = await _lab.DeployYamlAsync(StackYaml(directory, _lab.Client.Address, StopTimeout + TimeSpan.FromMilliseconds(1)));
        if (refused.Code == 0 || !refused.Error.Contains("a singleton could run twice", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"a singleton with a longer stop_timeout was not refused: {refused}");
        }
        var deploy = await _lab.DeployYamlAsync(StackYaml(directory, _lab.Client.Address, StopTimeout));
        if (deploy.Code != 0)
        {
            throw new InvalidOperationException($"the singleton's deploy failed: {deploy}\n{_lab.Logs()}");
        }
    }

    public async Task DisposeAsync()
    {
        _witness?.Dispose();
        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }
    }
}
