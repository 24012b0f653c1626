using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// A local HTTP endpoint (System.Net.HttpListener on 127.0.0.1) recording every POST; for a run marked with
/// <see cref="FailFirst"/> it answers 500 to that many tries before accepting.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<Post> _posts = new();
    private readonly ConcurrentDictionary<string, int> _failuresLeft = new();
    private readonly Task _loop;

    public sealed record Post(string InstanceId, JsonElement Body, string? EventId, string? ContentType, int AnsweredStatus);

    public WebhookReceiver()
    {
        // A free port: bound and released, then taken by the listener.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Url = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/hooks/sayiir/");
            probe.Stop();
        }
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    public void FailFirst(string instanceId, int tries) => _failuresLeft[instanceId] = tries;

    public IReadOnlyList<Post> PostsFor(string instanceId) => [.. _posts.Where(p => p.InstanceId == instanceId)];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            using var document = await JsonDocument.ParseAsync(context.Request.InputStream);
            var body = document.RootElement.Clone();
            var instanceId = body.GetProperty("instanceId").GetString()!;
            var fail = _failuresLeft.TryGetValue(instanceId, out var left) && left > 0;
            if (fail) _failuresLeft[instanceId] = left - 1;
            var status = fail ? 500 : 204;
            _posts.Enqueue(new Post(instanceId, body, context.Request.Headers["Sayiir-Event-Id"], context.Request.ContentType, status));
            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
