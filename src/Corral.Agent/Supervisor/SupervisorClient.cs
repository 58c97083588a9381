using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Corral.Agent.Supervisor;

/// <summary>
/// Talks to a supervisor over its Unix socket, one connection per call (so calls run concurrently and a
/// long <see cref="WaitAsync"/> does not hold up others). Throws <see cref="SupervisorUnavailableException"/>
/// when no supervisor answers and <see cref="SupervisorException"/> when it refuses a request.
/// </summary>
public sealed class SupervisorClient(string socketPath)
{
    public string SocketPath { get; } = socketPath;

    public async Task<SupervisorHello> HelloAsync(CancellationToken cancellationToken)
    {
        var response = await CallAsync(new SupervisorRequest { Op = "hello" }, cancellationToken).ConfigureAwait(false);
        return response.Hello ?? throw new SupervisorException("hello answered without identity");
    }

    /// <summary>Starts the task; a refused start throws with the failed task info attached.</summary>
    public async Task<SupervisedTaskInfo> StartAsync(SupervisedTaskSpec spec, CancellationToken cancellationToken) =>
        Required(await CallAsync(new SupervisorRequest { Op = "start", Spec = spec }, cancellationToken).ConfigureAwait(false));

    /// <summary>Stops the task and returns once it has exited.</summary>
    public async Task<SupervisedTaskInfo> StopAsync(string id, string? signal, TimeSpan? timeout, CancellationToken cancellationToken) =>
        Required(await CallAsync(new SupervisorRequest { Op = "stop", Id = id, Signal = signal, TimeoutMs = timeout is { } t ? (long)t.TotalMilliseconds : null }, cancellationToken).ConfigureAwait(false));

    /// <summary>The task's info; null when the supervisor does not know it.</summary>
    public async Task<SupervisedTaskInfo?> InspectAsync(string id, CancellationToken cancellationToken)
    {
        var response = await CallAsync(new SupervisorRequest { Op = "inspect", Id = id }, cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return response.NotFound ? null : response.Task;
    }

    public async Task<IReadOnlyList<SupervisedTaskInfo>> ListAsync(CancellationToken cancellationToken) =>
        (await CallAsync(new SupervisorRequest { Op = "list" }, cancellationToken).ConfigureAwait(false)).Tasks ?? [];

    /// <summary>Waits up to <paramref name="timeout"/> for run <paramref name="generation"/> to exit; returns the info either way.</summary>
    public async Task<SupervisedTaskInfo> WaitAsync(string id, long? generation, TimeSpan timeout, CancellationToken cancellationToken) =>
        Required(await CallAsync(new SupervisorRequest { Op = "wait", Id = id, Generation = generation, TimeoutMs = (long)timeout.TotalMilliseconds }, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Sets the task's fence: the supervisor stops it unless this is called again within <paramref name="within"/>,
    /// and refuses to start it once that happened; null clears the fence. The task need not be known yet.
    /// </summary>
    public async Task FenceAsync(string id, TimeSpan? within, CancellationToken cancellationToken) =>
        await CallAsync(new SupervisorRequest { Op = "fence", Id = id, TimeoutMs = within is { } w ? (long)Math.Max(0, w.TotalMilliseconds) : null }, cancellationToken).ConfigureAwait(false);

    /// <summary>Stops and forgets the task; null when it was not known.</summary>
    public async Task<SupervisedTaskInfo?> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        var response = await CallAsync(new SupervisorRequest { Op = "remove", Id = id }, cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return response.NotFound ? null : response.Task;
    }

    private static SupervisedTaskInfo Required(SupervisorResponse response) =>
        response.Task ?? throw new SupervisorException("the supervisor answered without a task");

    private async Task<SupervisorResponse> CallAsync(SupervisorRequest request, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new SupervisorUnavailableException($"no supervisor at {SocketPath}: {ex.Message}", ex);
        }
        string? line;
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var bytes = JsonSerializer.SerializeToUtf8Bytes(request, SupervisorJsonContext.Default.SupervisorRequest);
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8, false, 4096);
            line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            throw new SupervisorUnavailableException($"the supervisor at {SocketPath} went away during {request.Op}: {ex.Message}", ex);
        }
        if (line is null)
        {
            throw new SupervisorUnavailableException($"the supervisor at {SocketPath} closed the connection during {request.Op}");
        }
        var response = JsonSerializer.Deserialize(line, SupervisorJsonContext.Default.SupervisorResponse)
            ?? throw new SupervisorException("empty response");
        if (!response.Ok && !(allowNotFound && response.NotFound))
        {
            throw new SupervisorException(response.Error ?? $"{request.Op} failed", response.Task, response.NotFound);
        }
        return response;
    }
}
