using System.Buffers.Binary;
using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.Store.Tests.Grpc;

/// <summary>
/// A real Kestrel h2c server on 127.0.0.1 that answers crafted gRPC responses, one behaviour per method path,
/// with <see cref="StringValue"/> messages. Shared by the gRPC framing tests (one per test class).
/// </summary>
public sealed class GrpcTestServer : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri Address { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapPost("/test.Svc/Echo", async context =>
        {
            var request = await ReadOneAsync(context);
            await StartAsync(context);
            await WriteAsync(context, new StringValue { Value = "echo:" + request.Value });
            Finish(context, 0, null);
        });
        app.MapPost("/test.Svc/Metadata", async context =>
        {
            await ReadOneAsync(context);
            await StartAsync(context);
            await WriteAsync(context, new StringValue { Value = context.Request.Headers["token"].ToString() + "|" + context.Request.Headers["grpc-timeout"].ToString() });
            Finish(context, 0, null);
        });
        app.MapPost("/test.Svc/TrailersOnly", async context =>
        {
            await ReadOneAsync(context);
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "5";
            context.Response.Headers["grpc-message"] = "nothing%20here";
        });
        app.MapPost("/test.Svc/ErrorInTrailers", async context =>
        {
            await ReadOneAsync(context);
            await StartAsync(context);
            Finish(context, 9, "caf%C3%A9 %25 failed");
        });
        app.MapPost("/test.Svc/Slow", async context =>
        {
            await ReadOneAsync(context);
            await StartAsync(context);
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        app.MapPost("/test.Svc/Http503", context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        app.MapPost("/test.Svc/Count", async context =>
        {
            var request = await ReadOneAsync(context);
            await StartAsync(context);
            var n = int.Parse(request.Value, System.Globalization.CultureInfo.InvariantCulture);
            for (var i = 0; i < n; i++)
            {
                await WriteAsync(context, new StringValue { Value = "m" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }
            Finish(context, 0, null);
        });
        app.MapPost("/test.Svc/Split", async context =>
        {
            await ReadOneAsync(context);
            await StartAsync(context);
            var frame = Frame(new StringValue { Value = new string('x', 3000) });
            // Prefix split in two, then the body in three pieces, each flushed separately with a pause.
            int[] cuts = [0, 2, 5, 1000, 2000, frame.Length];
            for (var i = 0; i + 1 < cuts.Length; i++)
            {
                await context.Response.Body.WriteAsync(frame.AsMemory(cuts[i], cuts[i + 1] - cuts[i]), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(20, context.RequestAborted);
            }
            Finish(context, 0, null);
        });
        app.MapPost("/test.Svc/Duplex", async context =>
        {
            await StartAsync(context);
            while (await ReadFrameAsync(context.Request.Body, context.RequestAborted) is { } request)
            {
                await WriteAsync(context, new StringValue { Value = "re:" + request.Value });
            }
            Finish(context, 0, null);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Address = new Uri(address);
        _app = app;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static async Task StartAsync(HttpContext context)
    {
        context.Response.ContentType = "application/grpc";
        await context.Response.StartAsync(context.RequestAborted);
    }

    private static void Finish(HttpContext context, int status, string? message)
    {
        context.Response.AppendTrailer("grpc-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message is not null)
        {
            context.Response.AppendTrailer("grpc-message", message);
        }
    }

    private static async Task WriteAsync(HttpContext context, IMessage message)
    {
        await context.Response.Body.WriteAsync(Frame(message), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static byte[] Frame(IMessage message)
    {
        var body = message.ToByteArray();
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    private static async Task<StringValue> ReadOneAsync(HttpContext context) =>
        await ReadFrameAsync(context.Request.Body, context.RequestAborted) ?? throw new InvalidOperationException("no request message");

    private static async Task<StringValue?> ReadFrameAsync(Stream body, CancellationToken cancellationToken)
    {
        var header = new byte[5];
        var read = await body.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return null;
        }
        if (read < 5)
        {
            throw new InvalidOperationException("request ended inside a prefix");
        }
        var data = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await body.ReadExactlyAsync(data, cancellationToken);
        return StringValue.Parser.ParseFrom(data);
    }
}
