using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Configuration;
using Sayiir.Hosting;

namespace Sayiir.Runtime;

/// <summary>The attempts running on this silo, so a run can cancel its running task without a grain hop.</summary>
internal sealed class RunningAttempts : IDisposable
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _attempts = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenRegistration _stopping;

    public RunningAttempts(IHostApplicationLifetime? lifetime = null)
    {
        // Tasks see silo shutdown through their token.
        if (lifetime is not null) _stopping = lifetime.ApplicationStopping.Register(_shutdown.Cancel);
    }

    public CancellationTokenSource Register(Guid attemptId)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        _attempts[attemptId] = cts;
        return cts;
    }

    public void Unregister(Guid attemptId)
    {
        if (_attempts.TryRemove(attemptId, out var cts)) cts.Dispose();
    }

    public void Cancel(Guid attemptId)
    {
        if (!_attempts.TryGetValue(attemptId, out var cts)) return;
        try { cts.Cancel(); }
        catch (ObjectDisposedException) { } // finished meanwhile
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _shutdown.Cancel();
        _shutdown.Dispose();
    }
}

/// <summary>
/// Runs one attempt of a task. User code runs on the thread pool (not the grain scheduler), so blocking code cannot
/// stall the silo and a reentrant worker serves any number of concurrent attempts. An attempt that outlives the
/// inline window is answered "pending" and its result is sent to the run later, so no call outlives the timeout.
/// </summary>
[StatelessWorker, Reentrant]
internal sealed class TaskWorkerGrain : Grain, ITaskWorkerGrain
{
    private readonly WorkflowRegistry _registry;
    private readonly RunningAttempts _running;
    private readonly IServiceScopeFactory _scopes;
    private readonly IPayloadCodec _codec;
    private readonly ILogger<TaskWorkerGrain> _logger;
    private readonly TimeSpan _inlineWindow;

    public TaskWorkerGrain(WorkflowRegistry registry, RunningAttempts running, IServiceScopeFactory scopes, IPayloadCodec codec,
        IOptions<SayiirOptions> options, IOptions<SiloMessagingOptions> messaging, ILogger<TaskWorkerGrain> logger)
    {
        _registry = registry;
        _running = running;
        _scopes = scopes;
        _codec = codec;
        _logger = logger;
        var half = messaging.Value.ResponseTimeout / 2;
        _inlineWindow = options.Value.InlineResultWindow < half ? options.Value.InlineResultWindow : half;
    }

    public async Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request)
    {
        var cts = _running.Register(request.AttemptId);
        var execution = Task.Run(() => RunAttemptAsync(request, cts.Token));
        var finished = await Task.WhenAny(execution, Task.Delay(_inlineWindow));
        if (finished == execution)
        {
            _running.Unregister(request.AttemptId);
            return await execution;
        }
        _ = Task.Run(() => ReportLaterAsync(request, execution));
        return TaskAttemptResult.Pending;
    }

    private async Task ReportLaterAsync(TaskAttemptRequest request, Task<TaskAttemptResult> execution)
    {
        var result = await execution;
        _running.Unregister(request.AttemptId);
        var run = GrainFactory.GetGrain<IWorkflowGrain>(request.InstanceId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await run.ReportTaskResultAsync(request.AttemptId, result);
                return;
            }
            catch (Exception ex) when (attempt < 5)
            {
                _ = ex;
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
            catch (Exception ex)
            {
                // The run re-dispatches the task when it recovers (at-least-once), so losing this report loses no work.
                Log.ReportFailed(_logger, ex, request.InstanceId, request.TaskId, request.Attempt);
                return;
            }
        }
    }

    private async Task<TaskAttemptResult> RunAttemptAsync(TaskAttemptRequest request, CancellationToken cancellationToken)
    {
        var node = _registry.FindTask(request.WorkflowName, request.TaskId);
        if (node is null)
        {
            return Failed(request, new SayiirException($"Task '{request.TaskId}' of workflow '{request.WorkflowName}' is not registered on this silo."), retryable: true);
        }
        object? input;
        try
        {
            input = _codec.Decode(request.Input, node.InputType, $"input of task '{node.Id}'");
        }
        catch (PayloadSerializationException ex)
        {
            return Failed(request, ex, retryable: false);
        }

        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = node.Settings.Timeout;
        if (timeout is { } t) attemptCts.CancelAfter(t);
        await using var scope = _scopes.CreateAsyncScope();
        var context = new TaskContext(request.WorkflowName, request.InstanceId, node.Id, request.Attempt,
            request.Metadata ?? EmptyMetadata, scope.ServiceProvider, attemptCts.Token);
        object? output;
        try
        {
            var running = node.Invoker(input, context);
            // WaitAsync enforces the deadline even when user code ignores its token.
            output = timeout is { } limit ? await running.WaitAsync(limit, cancellationToken) : await running.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (timeout is { } limit && (ex is TimeoutException || (ex is OperationCanceledException && attemptCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)))
        {
            var timedOut = new TaskTimeoutException(node.Id, limit);
            return Failed(request, timedOut, node.Settings.Retry.IsRetryable(typeof(TaskTimeoutException)));
        }
        catch (Exception ex)
        {
            return Failed(request, ex, node.Settings.Retry.IsRetryable(ex.GetType()));
        }

        try
        {
            return new TaskAttemptResult { Outcome = AttemptOutcome.Completed, Output = _codec.Encode(output, node.OutputType, $"output of task '{node.Id}'") };
        }
        catch (PayloadSerializationException ex)
        {
            // Deterministic: retrying would fail the same way.
            return Failed(request, ex, retryable: false);
        }
    }

    private static readonly Dictionary<string, string> EmptyMetadata = [];

    private static TaskAttemptResult Failed(TaskAttemptRequest request, Exception error, bool retryable) => new()
    {
        Outcome = AttemptOutcome.Failed,
        Retryable = retryable,
        Failure = new TaskFailure
        {
            TaskId = request.TaskId,
            Attempt = request.Attempt,
            ErrorType = error.GetType().FullName ?? error.GetType().Name,
            Message = error.Message,
            StackTrace = error.StackTrace ?? new StackTrace(1, false).ToString(),
            At = DateTimeOffset.UtcNow,
        },
    };
}
