using Corral.Testing.Lab;

namespace Corral.ClusterTests.Ha;

/// <summary>
/// One <see cref="ServerLab"/> (3 servers with managed etcd, 3 agents, a client, the stack deployed) shared by the HA
/// tests: starting it takes most of a minute. Each test starts with <see cref="ServerLab.EnsureSteadyAsync"/>, which
/// restarts what an earlier test stopped and waits for the steady state, so no test depends on another's leftovers.
/// </summary>
public sealed class ServerLabFixture : IAsyncLifetime
{
    private ServerLab? _lab;

    public ServerLab Lab => _lab ?? throw new InvalidOperationException("the lab did not start");

    public async Task InitializeAsync() => _lab = await ServerLab.StartAsync();

    public async Task DisposeAsync()
    {
        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }
    }
}
