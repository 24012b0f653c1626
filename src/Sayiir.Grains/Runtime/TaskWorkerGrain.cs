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

    // Finished attempts run for another silo's run are kept until that run has saved their result (it says so), or
    // this long at most: enough for the run's own silo to die and the run to be recovered elsewhere and ask again.
    internal static readonly TimeSpan RetainFinishedFor = TimeSpan.FromMinutes(10);

    private readonly AttemptSlots? _slots;

    public RunningAttempts(IHostApplicationLifetime? lifetime = null, IOptions<SayiirOptions>? options = null,
        [FromKeyedServices(SayiirOptions.TimeProviderKey)] TimeProvider? time = null)
    {
        if (options?.Value.MaxConcurrentAttempts is { } max && time is not null) _slots = new AttemptSlots(max, options.Value.PriorityAgingInterval, time);
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

    /// <summary>Attempts running or waiting for a slot here.</summary>
    public int Busy => _slots?.Busy ?? _attempts.Count;

    /// <summary>How many attempts this silo runs at once before others wait (its processor count when unbounded).</summary>
    public int Capacity => _slots?.Capacity ?? Environment.ProcessorCount;

    /// <summary>
    /// Starts an attempt (or returns the one already started under this id: a resent request runs nothing twice). On a
    /// saturated silo it first waits for a slot, by <paramref name="priority"/>. A <paramref name="retain"/>ed attempt
    /// stays findable after it finished until <see cref="Forget"/> (or <see cref="RetainFinishedFor"/>).
    /// </summary>
    public Task<TaskAttemptResult> Start(Guid attemptId, Func<CancellationToken, Task<TaskAttemptResult>> run, int priority = TaskOptions.DefaultPriority,
        bool retain = false)
    {
        if (_attempts.TryGetValue(attemptId, out var existing)) return existing.Execution;
        // A stopping silo starts no user code: the attempt is handed back and runs again where the run goes next.
        if (_isStopping || _shutdown.IsCancellationRequested) return Task.FromResult(TaskAttemptResult.Abandoned);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var slots = _slots;
        // User code runs on the thread pool, never on a grain scheduler.
        var execution = slots is null ? Task.Run(() => run(cts.Token)) : Task.Run(() => RunInSlotAsync(slots, priority, run, cts.Token));
        var attempt = new Attempt(execution, cts);
        if (!_attempts.TryAdd(attemptId, attempt))
        {
            // The same request raced in: one of them runs.
            cts.Cancel();
            cts.Dispose();
            return _attempts.TryGetValue(attemptId, out existing) ? existing.Execution : Task.FromResult(TaskAttemptResult.Abandoned);
        }
        if (retain)
        {
            execution.ContinueWith(static (_, state) =>
            {
                var (attempts, id) = ((RunningAttempts, Guid))state!;
                // wall clock: bounds memory, not a run's timing.
                _ = Task.Delay(RetainFinishedFor, TimeProvider.System).ContinueWith(_ => attempts.Forget(id), TaskScheduler.Default);
            }, (this, attemptId), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return execution;
    }

    private static async Task<TaskAttemptResult> RunInSlotAsync(AttemptSlots slots, int priority, Func<CancellationToken, Task<TaskAttemptResult>> run,
        CancellationToken cancellationToken)
    {
        try
        {
            await slots.AcquireAsync(priority, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Abandoned while it waited: it never started.
            return TaskAttemptResult.Abandoned;
        }
        try
        {
            return await run(cancellationToken);
        }
        finally
        {
            slots.Release();
        }
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
/// Runs task attempts on this silo for the local task worker and for the attempt host (attempts sent by other silos'
/// runs). User code runs on the thread pool (not a grain scheduler), so blocking code cannot stall the silo and a
/// reentrant grain serves any number of concurrent attempts. An attempt that outlives the inline window is answered
/// "pending" and awaited again, so no call outlives the response timeout.
/// </summary>
internal sealed class AttemptExecutor
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

    public AttemptExecutor(WorkflowRegistry registry, RunningAttempts running, IServiceScopeFactory scopes, IPayloadCodec codec,
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

    /// <summary>The silo's attempts (their load and capacity).</summary>
    public RunningAttempts Running => _running;

    /// <summary>
    /// Starts the attempt (once per attempt id) and waits for it up to the inline window. A <paramref name="retain"/>ed
    /// attempt (run for another silo's run) stays findable until that run says it saved the result.
    /// </summary>
    public Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request, bool retain) =>
        WaitAsync(request.AttemptId, _running.Start(request.AttemptId, token => RunAttemptAsync(request, token), request.Priority, retain), forget: !retain);

    /// <summary>Waits again for an attempt that answered Pending; Abandoned if this silo has no such attempt.</summary>
    public Task<TaskAttemptResult> AwaitAsync(Guid attemptId, bool retain) =>
        _running.Find(attemptId) is { } execution ? WaitAsync(attemptId, execution, forget: !retain) : Task.FromResult(TaskAttemptResult.Abandoned);

    // The run polls again after a Pending answer, so no call outlives the response timeout and no late result
    // has to find its way back by itself.
    private async Task<TaskAttemptResult> WaitAsync(Guid attemptId, Task<TaskAttemptResult> execution, bool forget)
    {
        if (!execution.IsCompleted)
        {
            using var window = new CancellationTokenSource();
            var elapsed = Task.Delay(_inlineWindow, TimeProvider.System, window.Token); // wall clock: bounded by the real response timeout
            if (await Task.WhenAny(execution, elapsed) != execution) return TaskAttemptResult.Pending;
            // Release the timer now rather than at the end of the window.
            window.Cancel();
        }
        if (forget) _running.Forget(attemptId);
        var result = await execution;
        return result with { SiloLoad = _running.Busy };
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

/// <summary>Runs the attempts of this silo's runs. Stateless workers activate on the caller's silo: no hop.</summary>
[StatelessWorker, Reentrant]
internal sealed class TaskWorkerGrain(AttemptExecutor executor) : Grain, ITaskWorkerGrain
{
    public Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request) => executor.ExecuteAsync(request, retain: false);

    public Task<TaskAttemptResult> AwaitAsync(Guid attemptId) => executor.AwaitAsync(attemptId, retain: false);
}
