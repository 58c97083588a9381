using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Corral.Agent.Supervisor;

/// <summary>
/// Serves a <see cref="NodeSupervisor"/> on a Unix socket (mode 0600): one JSON request per line, one
/// JSON response line per request, in order, on any number of concurrent connections. A malformed or
/// failing request gets an error response; nothing a client sends stops the server.
/// </summary>
public sealed class SupervisorServer(NodeSupervisor supervisor)
{
    /// <summary>Listens until <paramref name="cancellationToken"/> is cancelled; removes the socket file on the way out.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var path = supervisor.Options.EffectiveSocketPath;
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        listener.Listen(512);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                _ = ServeAsync(client, cancellationToken);
            }
        }
        finally
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            using var reader = new StreamReader(stream, Encoding.UTF8, false, 4096);
            while (!cancellationToken.IsCancellationRequested)
            {
                var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }
                if (line.Length == 0)
                {
                    continue;
                }
                var response = await HandleAsync(line, cancellationToken).ConfigureAwait(false);
                var bytes = JsonSerializer.SerializeToUtf8Bytes(response, SupervisorJsonContext.Default.SupervisorResponse);
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; its requests are finished or abandoned.
        }
    }

    private async Task<SupervisorResponse> HandleAsync(string line, CancellationToken cancellationToken)
    {
        SupervisorRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(line, SupervisorJsonContext.Default.SupervisorRequest);
        }
        catch (JsonException ex)
        {
            return SupervisorResponse.Fail("malformed request: " + ex.Message);
        }
        if (request is null)
        {
            return SupervisorResponse.Fail("malformed request: null");
        }
        try
        {
            return await DispatchAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return SupervisorResponse.Fail($"{request.Op} failed: {ex.Message}");
        }
    }

    private async Task<SupervisorResponse> DispatchAsync(SupervisorRequest request, CancellationToken cancellationToken)
    {
        switch (request.Op)
        {
            case "hello":
                return new SupervisorResponse { Ok = true, Hello = supervisor.Hello };
            case "list":
                return new SupervisorResponse { Ok = true, Tasks = supervisor.List() };
            case "start":
                {
                    if (request.Spec is null)
                    {
                        return SupervisorResponse.Fail("start needs a spec");
                    }
                    var (info, error) = await supervisor.StartAsync(request.Spec.WithDefaults(), cancellationToken).ConfigureAwait(false);
                    return new SupervisorResponse { Ok = error is null, Error = error, Task = info };
                }
        }
        if (string.IsNullOrEmpty(request.Id))
        {
            return SupervisorResponse.Fail($"{request.Op} needs a task id");
        }
        switch (request.Op)
        {
            case "inspect":
                {
                    var info = supervisor.Inspect(request.Id);
                    return info is null ? SupervisorResponse.Unknown(request.Id) : new SupervisorResponse { Ok = true, Task = info };
                }
            case "wait":
                {
                    var info = await supervisor.WaitAsync(request.Id, request.Generation, TimeSpan.FromMilliseconds(request.TimeoutMs ?? 30_000), cancellationToken).ConfigureAwait(false);
                    return info is null ? SupervisorResponse.Unknown(request.Id) : new SupervisorResponse { Ok = true, Task = info };
                }
            case "stop":
                {
                    TimeSpan? timeout = request.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null;
                    var (info, error) = await supervisor.StopAsync(request.Id, request.Signal, timeout, cancellationToken).ConfigureAwait(false);
                    return info is null ? SupervisorResponse.Unknown(request.Id) with { Error = error } : new SupervisorResponse { Ok = error is null, Error = error, Task = info };
                }
            case "fence":
                {
                    supervisor.Fence(request.Id, request.TimeoutMs is { } within ? TimeSpan.FromMilliseconds(within) : null);
                    return new SupervisorResponse { Ok = true, Task = supervisor.Inspect(request.Id) };
                }
            case "remove":
                {
                    var (info, error) = await supervisor.RemoveAsync(request.Id, cancellationToken).ConfigureAwait(false);
                    return info is null ? SupervisorResponse.Unknown(request.Id) : new SupervisorResponse { Ok = error is null, Error = error, Task = info };
                }
            default:
                return SupervisorResponse.Fail($"unknown op: {request.Op}");
        }
    }
}
