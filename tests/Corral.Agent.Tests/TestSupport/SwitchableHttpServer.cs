using System.Net;
using Corral.Testing;

namespace Corral.Agent.Tests.TestSupport;

/// <summary>A real HTTP server on 127.0.0.1 answering every request with the status code a test sets.</summary>
internal sealed class SwitchableHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private volatile int _status = 200;
    private int _requests;

    public SwitchableHttpServer()
    {
        Port = FreePorts.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public int Status
    {
        get => _status;
        set => _status = value;
    }

    public int Requests => Volatile.Read(ref _requests);

    public string? LastPath { get; private set; }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            LastPath = context.Request.Url?.AbsolutePath;
            Interlocked.Increment(ref _requests);
            context.Response.StatusCode = _status;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
