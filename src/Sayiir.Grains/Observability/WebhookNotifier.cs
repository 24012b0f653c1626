using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sayiir.Hosting;
using Sayiir.Runtime;

namespace Sayiir.Observability;

/// <summary>
/// POSTs a JSON body for each matching run change (<see cref="WebhookNotifierOptions"/>), retried with exponential
/// backoff on network errors, timeouts and non-2xx answers. It runs on its own observer queue, so neither runs nor
/// other observers wait for it; changes of one silo are posted in order.
/// </summary>
internal sealed class WebhookNotifier : IRunObserver, IDisposable
{
    private readonly WebhookNotifierOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly string _url;

    public WebhookNotifier(WebhookNotifierOptions options, ILogger<WebhookNotifier> logger)
    {
        _options = options;
        _logger = logger;
        // For logs: no user info or query string, which may hold a secret.
        _url = $"{options.Url!.Scheme}://{options.Url.Authority}{options.Url.AbsolutePath}";
        // One long-lived client per notifier; pooled connections are renewed so DNS changes are seen.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = options.RequestTimeout };
    }

    public async Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
    {
        if (!_options.States.Contains(change.State)) return;
        if (_options.Workflows is { } workflows && !workflows.Contains(change.WorkflowName)) return;
        var body = Body(change);
        for (var attempt = 1; ; attempt++)
        {
            string reason;
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = content };
                // The same id on every try of one change, so a receiver can drop a duplicate (a try that timed out after it landed).
                request.Headers.Add("Sayiir-Event-Id", string.Create(CultureInfo.InvariantCulture, $"{change.InstanceId}/{change.State}/{change.At.UtcTicks}"));
                using var response = await _http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    Log.WebhookPosted(_logger, _url, change.InstanceId, change.State);
                    return;
                }
                reason = string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode}");
            }
            catch (HttpRequestException ex)
            {
                reason = ex.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                reason = $"no answer within {_options.RequestTimeout}";
            }
            if (attempt >= _options.MaxAttempts)
            {
                Log.WebhookGaveUp(_logger, _url, change.InstanceId, change.State, _options.MaxAttempts, reason);
                return;
            }
            var delay = Backoff(attempt);
            Log.WebhookRetry(_logger, _url, change.InstanceId, change.State, attempt, _options.MaxAttempts, reason, delay);
            await Task.Delay(delay, TimeProvider.System, cancellationToken); // wall clock: a receiver's outage heals in real time
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var ticks = _options.InitialBackoff.Ticks * Math.Pow(2, attempt - 1);
        return ticks >= _options.MaxBackoff.Ticks ? _options.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The JSON body: the run, its new and previous state, when, and why it failed or was cancelled.</summary>
    internal static byte[] Body(RunChange change)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("instanceId", change.InstanceId);
            json.WriteString("workflow", change.WorkflowName);
            json.WriteString("version", change.WorkflowVersion);
            json.WriteString("definitionHash", change.DefinitionHash);
            json.WriteString("state", change.State.ToString());
            json.WriteString("previousState", change.PreviousState.ToString());
            json.WriteString("at", change.At);
            if (change.Failure is { } failure)
            {
                json.WriteStartObject("failure");
                json.WriteString("taskId", failure.TaskId);
                json.WriteNumber("attempt", failure.Attempt);
                json.WriteString("errorType", failure.ErrorType);
                json.WriteString("message", failure.Message);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("failure");
            }
            if (change.Cancellation is { } cancellation)
            {
                json.WriteStartObject("cancellation");
                json.WriteString("reason", cancellation.Reason);
                json.WriteString("by", cancellation.By);
                json.WriteString("interruptedTaskId", cancellation.InterruptedTaskId);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("cancellation");
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public void Dispose() => _http.Dispose();
}
