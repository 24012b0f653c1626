using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Configuration;
using Sayiir.Hosting;
using Sayiir.Observability;

namespace Sayiir.Runtime;

/// <summary>
/// The attempts running on this silo, by attempt id: their executions (so any worker activation can wait for one)
/// and their cancellation sources (so a run cancels its running task without a grain hop).
/// </summary>
internal sealed class RunningAttempts : IDisposable
{
    private readonly ConcurrentDictionary<Guid, Attempt> _attempts = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenRegistration _stopping;
    private volatile bool _isStopping;

    public RunningAttempts(IHostApplicationLifetime? lifetime = null, IOptions<SayiirOptions>? options = null)
    {
        // A stopping silo starts nothing new but lets the attempts in flight finish within the hand-off window, so
        // their runs save them before letting go; then their tokens fire.
        var window = options?.Value.HandoffTimeout ?? TimeSpan.Zero;
        if (lifetime is not null) _stopping = lifetime.ApplicationStopping.Register(() =>
        {
            _isStopping = true;
            try { _shutdown.CancelAfter(window); } // wall clock: the hand-off window (a CancellationTokenSource() timer)
            catch (ObjectDisposedException) { } // disposed meanwhile
        });
    }

    /// <summary>Attempts this silo tracks (running, or finished and not yet collected by their run).</summary>
    public int Count => _attempts.Count;

    public Task<TaskAttemptResult> Start(Guid attemptId, Func<CancellationToken, Task<TaskAttemptResult>> run)
    {
        // A stopping silo starts no user code: the attempt is handed back and runs again where the run goes next.
        if (_isStopping || _shutdown.IsCancellationRequested) return Task.FromResult(TaskAttemptResult.Abandoned);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        // User code runs on the thread pool, never on a grain scheduler.
        var execution = Task.Run(() => run(cts.Token));
        _attempts[attemptId] = new Attempt(execution, cts);
        return execution;
    }

    public Task<TaskAttemptResult>? Find(Guid attemptId) => _attempts.TryGetValue(attemptId, out var attempt) ? attempt.Execution : null;

    public void Forget(Guid attemptId)
    {
        if (_attempts.TryRemove(attemptId, out var attempt)) attempt.Cancellation.Dispose();
    }

    /// <summary>
    /// The run no longer wants this attempt's result (cancelled, stopped, handed over): its token fires, and it leaves
    /// the table once it has finished, whether or not anyone collects it.
    /// </summary>
    public void Abandon(Guid attemptId)
    {
        if (!_attempts.TryGetValue(attemptId, out var attempt)) return;
        try { attempt.Cancellation.Cancel(); }
        catch (ObjectDisposedException) { } // finished meanwhile
        attempt.Execution.ContinueWith(static (_, state) =>
        {
            var (attempts, id) = ((RunningAttempts, Guid))state!;
            attempts.Forget(id);
        }, (this, attemptId), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _shutdown.Cancel();
        _shutdown.Dispose();
    }

    private sealed record Attempt(Task<TaskAttemptResult> Execution, CancellationTokenSource Cancellation);
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
    private readonly TaskFilterPipeline _filters;
    private readonly TimeSpan _inlineWindow;
    private readonly ILoggerFactory _loggers;
    private readonly TaskLogLimits _logLimits;
    // Engine time: task timeouts, failure instants and attempt durations (a test may register a fake).
    private readonly TimeProvider _time;

    public TaskWorkerGrain(WorkflowRegistry registry, RunningAttempts running, IServiceScopeFactory scopes, IPayloadCodec codec,
        TaskFilterPipeline filters, IOptions<SayiirOptions> options, IOptions<SiloMessagingOptions> messaging, [FromKeyedServices(SayiirOptions.TimeProviderKey)] TimeProvider time,
        ILoggerFactory loggers)
    {
        _loggers = loggers;
        _logLimits = new TaskLogLimits(options.Value.TaskLogMaxLines, options.Value.TaskLogMaxBytes, options.Value.TaskLogMinimumLevel);
        _time = time;
        _registry = registry;
        _running = running;
        _scopes = scopes;
        _codec = codec;
        _filters = filters;
        var half = messaging.Value.ResponseTimeout / 2;
        _inlineWindow = options.Value.InlineResultWindow < half ? options.Value.InlineResultWindow : half;
        _maxPayloadBytes = options.Value.MaxPayloadBytes;
    }

    private readonly int _maxPayloadBytes;

    public Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request) =>
        WaitAsync(request.AttemptId, _running.Start(request.AttemptId, token => RunAttemptAsync(request, token)));

    public Task<TaskAttemptResult> AwaitAsync(Guid attemptId) =>
        _running.Find(attemptId) is { } execution ? WaitAsync(attemptId, execution) : Task.FromResult(TaskAttemptResult.Abandoned);

    // The run polls again after a Pending answer, so no call outlives the response timeout and no late result
    // has to find its way back by itself.
    private async Task<TaskAttemptResult> WaitAsync(Guid attemptId, Task<TaskAttemptResult> execution)
    {
        if (!execution.IsCompleted)
        {
            using var window = new CancellationTokenSource();
            var elapsed = Task.Delay(_inlineWindow, TimeProvider.System, window.Token); // wall clock: bounded by the real response timeout
            if (await Task.WhenAny(execution, elapsed) != execution) return TaskAttemptResult.Pending;
            // Release the timer now rather than at the end of the window.
            window.Cancel();
        }
        _running.Forget(attemptId);
        return await execution;
    }

    private async Task<TaskAttemptResult> RunAttemptAsync(TaskAttemptRequest request, CancellationToken cancellationToken)
    {
        var node = _registry.FindTask(request.WorkflowName, request.DefinitionHash, request.TaskId);
        if (node is null)
        {
            return Failed(request, new SayiirException($"Task '{request.TaskId}' of workflow '{request.WorkflowName}' is not registered on this silo."), retryable: true);
        }
        if (request.Compensate && node.Compensation is null)
        {
            return Failed(request, new SayiirException($"Task '{request.TaskId}' of workflow '{request.WorkflowName}' has no compensation on this silo."), retryable: true);
        }
        object? input;
        object? output = null;
        try
        {
            input = _codec.Decode(request.Input, node.InputType, $"input of task '{node.Id}'");
            if (request.Compensate) output = _codec.Decode(request.Output ?? [], node.OutputType, $"output of task '{node.Id}' (for its compensation)");
        }
        catch (PayloadSerializationException ex)
        {
            return Failed(request, ex, retryable: false);
        }

        using var activity = SayiirTelemetry.Source.StartActivity(request.Compensate ? $"compensate {node.Id}" : $"task {node.Id}", ActivityKind.Internal,
            SayiirTelemetry.ParseParent(request.TraceParent));
        activity?.SetTag("sayiir.workflow", request.WorkflowName);
        activity?.SetTag("sayiir.instance_id", request.InstanceId);
        activity?.SetTag("sayiir.task_id", node.Id);
        activity?.SetTag("sayiir.attempt", request.Attempt);
        var logger = new TaskAttemptLogger(_loggers.CreateLogger($"Sayiir.Task.{request.WorkflowName}.{node.Id}"), _time, _logLimits,
            new TaskLogScope(request.WorkflowName, request.InstanceId, node.Id, request.Attempt));
        var started = _time.GetTimestamp();
        var result = await RunUserCodeAsync(request, node, input, output, logger, cancellationToken);
        var elapsed = _time.GetElapsedTime(started).TotalMilliseconds;
        activity?.SetTag("sayiir.outcome", result.Outcome.ToString());
        if (result.Failure is { } failure)
        {
            activity?.SetStatus(ActivityStatusCode.Error, failure.Message);
            activity?.SetTag("error.type", failure.ErrorType);
            SayiirTelemetry.TasksFailed.Add(1, SayiirTelemetry.WorkflowTag(request.WorkflowName));
        }
        var tags = new TagList { SayiirTelemetry.WorkflowTag(request.WorkflowName), { "sayiir.outcome", result.Outcome.ToString() } };
        SayiirTelemetry.TasksExecuted.Add(1, tags);
        SayiirTelemetry.TaskDuration.Record(elapsed, tags);
        // An abandoned attempt reports nothing to its run, its lines included.
        return result with { DurationMs = elapsed, Logs = result.Outcome == AttemptOutcome.Abandoned ? null : logger.Drain() };
    }

    private async Task<TaskAttemptResult> RunUserCodeAsync(TaskAttemptRequest request, TaskNode node, object? input, object? taskOutput,
        TaskAttemptLogger logger, CancellationToken cancellationToken)
    {
        var timeout = node.Settings.Timeout;
        var retry = request.Compensate ? node.CompensationRetry : node.Settings.Retry;
        // The task's timeout runs on the engine's clock; the attempt's token also fires on shutdown or the run's cancel.
        using var timeoutCts = timeout is { } t ? new CancellationTokenSource(t, _time) : null;
        using var attemptCts = timeoutCts is null
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        await using var scope = _scopes.CreateAsyncScope();
        var context = new TaskContext(request.WorkflowName, request.InstanceId, node.Id, request.Attempt,
            request.Metadata ?? EmptyMetadata, scope.ServiceProvider, attemptCts.Token, request.IdempotencyKey, request.LoopIteration, logger,
            isCompensation: request.Compensate);
        object? output;
        try
        {
            // The task's filters and the task: the timeout and the token below cover the whole chain.
            var running = request.Compensate ? _filters.CompensateAsync(node, input, taskOutput, context) : _filters.InvokeAsync(node, input, context);
            // One deadline for both sides: the attempt's token fires, and the wait ends even when user code ignores
            // that token. (A separate wait timeout could win the race and dispose the token before it fired.)
            output = await running.WaitAsync(attemptCts.Token);
        }
        catch (OperationCanceledException) when (timeout is { } limit && attemptCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var timedOut = new TaskTimeoutException(request.InstanceId, node.Id, limit);
            return Failed(request, timedOut, retry.IsRetryable(typeof(TaskTimeoutException)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Silo shutdown or the run's own cancel: the attempt did not fail, it was taken away.
            return TaskAttemptResult.Abandoned;
        }
        catch (Exception ex)
        {
            return Failed(request, ex, retry.IsRetryable(ex.GetType()));
        }
        // An undo step has no output to keep.
        if (request.Compensate) return new TaskAttemptResult { Outcome = AttemptOutcome.Completed, Output = [] };

        try
        {
            var encoded = _codec.Encode(output, node.OutputType, $"output of task '{node.Id}'");
            PayloadTooLargeException.ThrowIfTooLarge(encoded, _maxPayloadBytes, $"output of task '{node.Id}'");
            return new TaskAttemptResult { Outcome = AttemptOutcome.Completed, Output = encoded };
        }
        catch (Exception ex) when (ex is PayloadSerializationException or PayloadTooLargeException)
        {
            // Deterministic: retrying would fail the same way.
            return Failed(request, ex, retryable: false);
        }
    }

    private static readonly Dictionary<string, string> EmptyMetadata = [];

    private TaskAttemptResult Failed(TaskAttemptRequest request, Exception error, bool retryable) => new()
    {
        Outcome = AttemptOutcome.Failed,
        Retryable = retryable,
        // An error that was never thrown (a timeout) has no stack trace of its own: where it was raised stands in.
        Failure = TaskFailure.FromException(request.TaskId, request.Attempt, error, _time.GetUtcNow(),
            error.StackTrace is null ? new StackTrace(1, false).ToString() : null),
    };
}
