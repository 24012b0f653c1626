using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Sayiir.Hosting;
using Sayiir.Observability;

namespace Sayiir.Runtime;

/// <summary>
/// One workflow run. The grain is not reentrant, but the run itself is driven by a detached loop on the grain's
/// scheduler: a task is dispatched to a worker and awaited without holding a request, so status, cancel, pause and
/// signal calls are served while a task runs (design force 1), and no call lasts longer than the worker's inline
/// window (force 2). All state changes happen in synchronous stretches between awaits; every await of the loop is
/// followed by an epoch check, so a cancel, failure, termination or lost ownership stops the loop at its next step.
/// Writes are coalesced by a single writer that hands storage a snapshot, so a write in flight never sees a later
/// mutation (the ADO.NET provider serializes off the grain thread).
/// </summary>
internal sealed class WorkflowGrain : Grain, IWorkflowGrain, IRemindable
{
    internal const string ReminderName = "sayiir-recovery";

    /// <summary>The recovery reminder this activation registered, if any (its ETag lets it be removed without a read).</summary>
    private IGrainReminder? _reminder;

    /// <summary>Why an active run cannot be driven on this silo (missing workflow, changed definition); its stored state stays untouched.</summary>
    private SayiirException? _blocked;

    // Rows are keyed by state name, not grain class: a name of our own keeps them apart from user grains.
    internal const string StateName = "sayiir-run";
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromMinutes(1);

    private readonly IPersistentState<WorkflowRunState> _store;
    private readonly WorkflowRegistry _registry;
    private readonly RunningAttempts _attempts;
    private readonly IPayloadCodec _codec;
    private readonly SayiirOptions _options;
    private readonly ILogger<WorkflowGrain> _logger;
    private readonly IRunJournal _journal;
    private readonly LocalWorkers _workers;

    private WorkflowRunState _run = new();

    // The loop's generation: bumped whenever the run's trajectory changes underneath it.
    private int _epoch;
    private bool _driving;
    private CancellationTokenSource _runCts = new();
    private TaskCompletionSource _ended = NewSignal();
    private TaskCompletionSource? _unpaused;
    private IGrainTimer? _keepAlive;
    private bool _ownershipLost;
    private Activity? _runActivity;
    private FlowIndex? _index;

    // Archive acknowledgements of task outputs completed by this activation, and outputs waiting for theirs.
    private readonly Dictionary<string, Task> _archived = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingPrunes = new(StringComparer.Ordinal);
    private WorkflowState _listedState;

    private readonly Dictionary<string, Guid> _runningTasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _waitingDelays = new(StringComparer.Ordinal);
    private readonly List<SignalWaiter> _signalWaiters = [];

    // Single-writer state persistence.
    private bool _dirty;
    private bool _writing;
    private long _requestedWrites;
    private long _completedWrites;
    private readonly List<(long Target, TaskCompletionSource Done)> _writeWaiters = [];

    public WorkflowGrain(
        [PersistentState(StateName, SayiirOptions.StorageName)] IPersistentState<WorkflowRunState> store,
        WorkflowRegistry registry, RunningAttempts attempts, IPayloadCodec codec, IOptions<SayiirOptions> options, IRunJournal journal,
        LocalWorkers workers, ILogger<WorkflowGrain> logger)
    {
        _journal = journal;
        _workers = workers;
        _store = store;
        _registry = registry;
        _attempts = attempts;
        _codec = codec;
        _options = options.Value;
        _logger = logger;
    }

    private string InstanceId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _run = _store.State ?? new WorkflowRunState();
        _listedState = _run.Status;
        if (_run.IsTerminal) _ended.TrySetResult();
        if (_run.IsActive)
        {
            Log.RunRecovered(_logger, InstanceId, _run.Status);
            Record(RunEventKind.Recovered, detail: _run.Status.ToString());
            _runActivity = StartRunActivity(SayiirTelemetry.ParseParent(_run.TraceParent), resumed: true);
            StartDriving();
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Results can no longer reach this activation; the next one re-dispatches unfinished tasks.
        StopDriving();
        return Task.CompletedTask;
    }

    // ----- requests -------------------------------------------------------------------------------------------

    public async Task<WorkflowStatus> StartAsync(StartRequest request)
    {
        InvalidInstanceIdException.ThrowIfInvalid(InstanceId);
        ArgumentNullException.ThrowIfNull(request);
        if (_run.Exists)
        {
            switch (request.OnConflict)
            {
                case ConflictPolicy.UseExisting:
                    return BuildStatus();
                case ConflictPolicy.TerminateExisting:
                    break;
                default:
                    throw new WorkflowAlreadyExistsException(InstanceId, CurrentState());
            }
        }
        var definition = _registry.Find(request.WorkflowName) ?? throw new WorkflowNotFoundException(request.WorkflowName);
        if (request.DefinitionHash is { } callerHash && callerHash != definition.Hash)
            throw new DefinitionMismatchException(InstanceId, definition.Name, callerHash, definition.Hash);
        // Decoding validates the input's shape before anything is written.
        _codec.Decode(request.Input, definition.InputType, $"input of workflow '{definition.Name}'");

        if (_run.Exists)
        {
            Log.RunTerminated(_logger, InstanceId);
            StopDriving();
            _ended.TrySetResult();
        }
        await RegisterReminderAsync();
        var now = DateTimeOffset.UtcNow;
        _run = new WorkflowRunState
        {
            WorkflowName = definition.Name,
            DefinitionHash = definition.Hash,
            Status = WorkflowState.Running,
            Input = request.Input,
            Metadata = request.Metadata ?? [],
            CreatedAt = now,
            // Signals sent before the run started are kept for it; a terminated run's unconsumed ones go with it.
            Signals = _run.Exists ? [] : _run.Signals,
        };
        _ended = NewSignal();
        _runActivity?.Dispose();
        _runActivity = StartRunActivity(SayiirTelemetry.ParseParent(request.TraceParent), resumed: false);
        _run.TraceParent = _runActivity?.Id;
        await PersistAsync();
        Log.RunStarted(_logger, InstanceId, definition.Name, definition.Hash);
        Record(RunEventKind.RunStarted, detail: definition.Hash);
        SayiirTelemetry.RunsStarted.Add(1, SayiirTelemetry.WorkflowTag(definition.Name));
        StartDriving();
        return BuildStatus();
    }

    public Task<WorkflowStatus> GetStatusAsync() => Task.FromResult(BuildStatus());

    public async Task<WorkflowStatus> WaitAsync(TimeSpan maxWait)
    {
        // A run this silo cannot continue (its workflow is missing or changed) would never end: say why instead.
        if (_blocked is not null && _run.IsActive) throw _blocked;
        if (_run.Exists && !_ended.Task.IsCompleted)
        {
            // Cancel the timer once the run ends: thousands of waiting clients would otherwise leave as many live timers.
            using var window = new CancellationTokenSource();
            await Task.WhenAny(_ended.Task, Task.Delay(maxWait, window.Token));
            window.Cancel();
        }
        return BuildStatus();
    }

    public async Task<TaskResultReply> GetTaskResultAsync(string taskId)
    {
        if (_run.Outputs.TryGetValue(taskId, out var payload)) return new TaskResultReply(true, payload, CurrentState());
        // Finished outputs no later step needs live in the archive, not in the run's state.
        if (_run.Done.Contains(taskId) && await _journal.ReadTaskOutputAsync(InstanceId, taskId) is { } archived)
            return new TaskResultReply(true, archived, CurrentState());
        return new TaskResultReply(false, null, CurrentState());
    }

    public async Task<WorkflowStatus> ResumeAsync()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        var definition = _registry.Find(_run.WorkflowName!) ?? throw new WorkflowNotFoundException(_run.WorkflowName!);
        if (definition.Hash != _run.DefinitionHash)
            throw new DefinitionMismatchException(InstanceId, definition.Name, _run.DefinitionHash ?? "(none)", definition.Hash);
        switch (_run.Status)
        {
            case WorkflowState.Failed:
                // The failed task starts over with a fresh retry budget; completed tasks keep their outputs.
                if (_run.Failure?.TaskId is { } failedTask) _run.Retries.Remove(failedTask);
                _run.Failure = null;
                _run.Status = WorkflowState.Running;
                _ended = NewSignal();
                await RegisterReminderAsync();
                await PersistAsync();
                Log.RunResumed(_logger, InstanceId);
                Record(RunEventKind.Resumed);
                _runActivity ??= StartRunActivity(SayiirTelemetry.ParseParent(_run.TraceParent), resumed: true);
                StartDriving();
                break;
            case WorkflowState.Completed or WorkflowState.Cancelled:
                throw new InvalidRunStateException(InstanceId, "resume", _run.Status);
            default:
                StartDriving();
                break;
        }
        return BuildStatus();
    }

    public async Task<WorkflowStatus> CancelAsync(string? reason, string? by)
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.Status == WorkflowState.Cancelled) return BuildStatus();
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, "cancel", _run.Status);
        // The running task(s), else the delay or signal wait the run was parked on.
        var interrupted = RunningTaskIds()
            ?? (_waitingDelays.Count > 0 ? string.Join(",", _waitingDelays.Keys) : null)
            ?? (_signalWaiters.Count > 0 ? string.Join(",", _signalWaiters.Select(w => w.NodeId)) : null);
        StopDriving();
        _run.Status = WorkflowState.Cancelled;
        _run.Pause = null;
        _run.Cancellation = new CancellationInfo { Reason = reason, By = by, At = DateTimeOffset.UtcNow, InterruptedTaskId = interrupted };
        await PersistAsync();
        Log.RunCancelled(_logger, InstanceId, by, reason);
        Record(RunEventKind.Cancelled, taskId: interrupted, detail: FormatActor(reason, by));
        SayiirTelemetry.RunsCancelled.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        await EndRunAsync();
        return BuildStatus();
    }

    public async Task<WorkflowStatus> PauseAsync(string? reason, string? by)
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, "pause", _run.Status);
        if (_run.Pause is not null) return BuildStatus();
        _run.Pause = new PauseInfo { Reason = reason, By = by, At = DateTimeOffset.UtcNow };
        await PersistAsync();
        Log.RunPaused(_logger, InstanceId, by, reason);
        Record(RunEventKind.Paused, detail: FormatActor(reason, by));
        return BuildStatus();
    }

    public async Task<WorkflowStatus> UnpauseAsync()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.Pause is null) return BuildStatus();
        _run.Pause = null;
        await PersistAsync();
        Log.RunUnpaused(_logger, InstanceId);
        Record(RunEventKind.Unpaused);
        _unpaused?.TrySetResult();
        _unpaused = null;
        StartDriving();
        return BuildStatus();
    }

    public async Task SignalAsync(string signalName, byte[] payload)
    {
        if (string.IsNullOrWhiteSpace(signalName)) throw new ArgumentException("A signal name must not be empty.", nameof(signalName));
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, $"signal '{signalName}' to", _run.Status);
        SayiirTelemetry.SignalsReceived.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        var waiter = _signalWaiters.FirstOrDefault(w => w.SignalName == signalName);
        if (waiter is not null)
        {
            // Delivered straight into the waiting node: one write records both receipt and consumption.
            _signalWaiters.Remove(waiter);
            _run.Deadlines.Remove(waiter.NodeId);
            CompleteLeaf(waiter.Node, payload);
            await PersistAsync();
            Record(RunEventKind.SignalReceived, taskId: waiter.NodeId, detail: signalName);
            waiter.Delivered.TrySetResult(payload);
            return;
        }
        if (!_run.Signals.TryGetValue(signalName, out var queue)) _run.Signals[signalName] = queue = [];
        queue.Add(payload);
        await PersistAsync();
        Record(RunEventKind.SignalReceived, detail: signalName);
    }

    public async Task<List<RunHistoryEvent>> GetHistoryAsync()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        return [.. await _journal.ReadHistoryAsync(InstanceId)];
    }

    public Task WakeAsync()
    {
        StartDriving();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return Task.CompletedTask;
        if (!_run.IsActive) return UnregisterReminderAsync();
        StartDriving();
        return Task.CompletedTask;
    }

    // ----- the drive loop -------------------------------------------------------------------------------------

    private void StartDriving()
    {
        if (_driving || !_run.IsActive || _ownershipLost) return;
        var definition = _registry.Find(_run.WorkflowName!);
        if (definition is null)
        {
            Log.WorkflowMissing(_logger, InstanceId, _run.WorkflowName!);
            _blocked = new WorkflowNotFoundException(_run.WorkflowName!);
            return;
        }
        if (definition.Hash != _run.DefinitionHash)
        {
            Log.DefinitionChanged(_logger, InstanceId, definition.Name, _run.DefinitionHash ?? "(none)", definition.Hash);
            _blocked = new DefinitionMismatchException(InstanceId, definition.Name, _run.DefinitionHash ?? "(none)", definition.Hash);
            return;
        }
        _blocked = null;
        _driving = true;
        SayiirTelemetry.RunsInFlight.Add(1);
        _keepAlive ??= this.RegisterGrainTimer(static () => Task.CompletedTask,
            new GrainTimerCreationOptions { DueTime = KeepAlivePeriod, Period = KeepAlivePeriod, KeepAlive = true, Interleave = true });
        _ = DriveAsync(definition, _epoch);
    }

    /// <summary>Stops the loop: bumps the epoch, fires running tasks' tokens, wakes every wait so it can observe the stop.</summary>
    private void StopDriving()
    {
        _epoch++;
        if (_driving) SayiirTelemetry.RunsInFlight.Add(-1);
        _driving = false;
        _runCts.Cancel();
        _runCts.Dispose();
        _runCts = new CancellationTokenSource();
        foreach (var attemptId in _runningTasks.Values) _attempts.Cancel(attemptId);
        foreach (var waiter in _signalWaiters) waiter.Delivered.TrySetCanceled();
        _runningTasks.Clear();
        _waitingDelays.Clear();
        _signalWaiters.Clear();
        _unpaused?.TrySetCanceled();
        _unpaused = null;
        _keepAlive?.Dispose();
        _keepAlive = null;
    }

    private async Task DriveAsync(WorkflowDefinition definition, int epoch)
    {
        try
        {
            await Task.Yield();
            _index = FlowIndex.For(definition);
            var output = await ExecStepsAsync(definition.Steps, _run.Input!, epoch);
            Ensure(epoch);
            _run.Status = WorkflowState.Completed;
            _run.Output = output;
            StopDriving();
            await PersistAsync();
            Log.RunCompleted(_logger, InstanceId);
            Record(RunEventKind.Completed);
            SayiirTelemetry.RunsCompleted.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
            await EndRunAsync();
        }
        catch (Exception) when (epoch != _epoch)
        {
            // Stopped by cancel, termination, failure elsewhere in the run, or lost ownership.
        }
        catch (RunAbandonedException abandoned)
        {
            // The silo is going away or the worker is unreachable: leave the state as checkpointed and let the
            // recovery reminder (here or on another silo) drive the run again.
            Log.RunParked(_logger, abandoned.InnerException, InstanceId);
            StopDriving();
        }
        catch (RunFailedException failed)
        {
            await FailRunAsync(failed.Failure);
        }
        catch (Exception ex)
        {
            Log.EngineError(_logger, ex, InstanceId);
            await FailRunAsync(FailureFrom("(engine)", 1, ex));
        }
    }

    private async Task FailRunAsync(TaskFailure failure)
    {
        StopDriving();
        _run.Status = WorkflowState.Failed;
        _run.Failure = failure;
        // A pause ends with the run; a later resume starts it running, not paused.
        _run.Pause = null;
        try
        {
            await PersistAsync();
        }
        catch (RunInterruptedException)
        {
            return;
        }
        Log.RunFailed(_logger, InstanceId, failure.TaskId, failure.Attempt, failure.ErrorType, failure.Message);
        Record(RunEventKind.Failed, failure.TaskId, failure.Attempt, errorType: failure.ErrorType, message: failure.Message);
        SayiirTelemetry.RunsFailed.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        _runActivity?.SetStatus(ActivityStatusCode.Error, failure.Message);
        _runActivity?.SetTag("error.type", failure.ErrorType);
        await EndRunAsync();
    }

    private async Task EndRunAsync()
    {
        _ended.TrySetResult();
        if (_run.CreatedAt is { } created)
            SayiirTelemetry.RunDuration.Record((DateTimeOffset.UtcNow - created).TotalSeconds, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        if (_runActivity is not null)
        {
            _runActivity.SetTag("sayiir.outcome", _run.Status.ToString());
            _runActivity.Dispose();
            _runActivity = null;
        }
        await UnregisterReminderAsync();
    }

    private async Task<byte[]> ExecStepsAsync(ImmutableArray<FlowNode> steps, byte[] input, int epoch)
    {
        // Finished steps form a prefix: resume after the last of them, from its (retained) output.
        var start = 0;
        for (var i = steps.Length - 1; i >= 0; i--)
        {
            if (!IsDone(steps[i])) continue;
            start = i + 1;
            break;
        }
        var value = start == 0 ? input : await OutputOfAsync(steps[start - 1]);
        for (var i = start; i < steps.Length; i++) value = await ExecNodeAsync(steps[i], value, epoch);
        return value;
    }

    private async Task<byte[]> ExecNodeAsync(FlowNode node, byte[] input, int epoch)
    {
        Ensure(epoch);
        if (IsDone(node)) return await OutputOfAsync(node);
        return await (node switch
        {
            ForkNode fork => ExecForkAsync(fork, input, epoch),
            RouteNode route => ExecRouteAsync(route, input, epoch),
            ChildFlowNode child => ExecStepsAsync(child.Steps, input, epoch),
            TaskNode task => ExecTaskAsync(task, input, epoch),
            LoopNode loop => ExecLoopAsync(loop, input, epoch),
            DelayNode delay => ExecDelayAsync(delay, input, epoch),
            SignalNode signal => ExecSignalAsync(signal, epoch),
            _ => throw new NotSupportedException($"Unknown node kind {node.GetType().Name}."),
        });
    }

    // ----- progress: what is finished, which outputs are still needed -----------------------------------------

    private bool IsDone(FlowNode node) => node switch
    {
        ForkNode fork => fork.Join is { } join ? IsDone(join) : fork.Branches.All(b => IsDone(b.Steps[^1])),
        RouteNode route => ChosenBranch(route) is { } branch && IsDone(branch.Steps[^1]),
        ChildFlowNode child => IsDone(child.Steps[^1]),
        _ => _run.Done.Contains(node.Id),
    };

    private FlowBranch? ChosenBranch(RouteNode route)
    {
        if (!_run.Outputs.TryGetValue(route.Id, out var keyPayload)) return null;
        return BranchFor(route, (string?)_codec.Decode(keyPayload, typeof(string), $"key of route '{route.Id}'") ?? "");
    }

    private static FlowBranch? BranchFor(RouteNode route, string key) => route.Branches.FirstOrDefault(b => b.Name == key) ?? route.Default;

    private async Task<byte[]> OutputOfAsync(FlowNode node)
    {
        switch (node)
        {
            case ForkNode { Join: { } join }:
                return await OutputOfAsync(join);
            case ForkNode fork:
                var outputs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach (var branch in fork.Branches) outputs[branch.Name] = await OutputOfAsync(branch.Steps[^1]);
                return BranchResults.Encode(outputs);
            case RouteNode route:
                return await OutputOfAsync(ChosenBranch(route)!.Steps[^1]);
            case ChildFlowNode child:
                return await OutputOfAsync(child.Steps[^1]);
        }
        if (_run.Outputs.TryGetValue(node.Id, out var output)) return output;
        // Only reached if an output was pruned while still needed; the archive still has it.
        return await _journal.ReadTaskOutputAsync(InstanceId, node.Id)
            ?? throw new InvalidOperationException($"The output of finished node '{node.Id}' is neither in the run's state nor archived.");
    }

    /// <summary>Records a finished leaf (task, delay, signal, loop) and drops outputs no later step needs any more.</summary>
    private void CompleteLeaf(FlowNode leaf, byte[] output)
    {
        if (leaf is SignalNode signal)
        {
            // A signal's payload is a result like a task's: archived, so it stays readable once released.
            _archived[leaf.Id] = _journal.ArchiveAsync(InstanceId, new RunHistoryEvent
            {
                At = DateTimeOffset.UtcNow,
                Kind = RunEventKind.SignalConsumed,
                TaskId = leaf.Id,
                Detail = signal.SignalName,
            }, output);
        }
        _run.Outputs[leaf.Id] = output;
        _run.Done.Add(leaf.Id);
        _dirty = true;
        ReleaseInputsOf(leaf);
    }

    private void ReleaseInputsOf(FlowNode node)
    {
        if (_index is null) return;
        var owner = _index.Owner(node);
        if (owner is ForkNode fork && ReferenceEquals(fork.Join, node))
        {
            foreach (var branch in fork.Branches) Release(branch.Steps[^1]);
        }
        else if (_index.Predecessor(node) is { } predecessor)
        {
            Release(predecessor);
        }
        // A chain that just finished releases what came before its owner, up the tree.
        if (owner is not null and not LoopNode && IsDone(owner)) ReleaseInputsOf(owner);
    }

    private void Release(FlowNode node)
    {
        switch (node)
        {
            case ForkNode { Join: { } join }: Release(join); return;
            case ForkNode fork: foreach (var forkBranch in fork.Branches) Release(forkBranch.Steps[^1]); return;
            case RouteNode route: if (ChosenBranch(route) is { } routeBranch) Release(routeBranch.Steps[^1]); return;
            case ChildFlowNode child: Release(child.Steps[^1]); return;
            case TaskNode or SignalNode:
                // A task's (or signal's) output leaves the state only once the archive holds it.
                if (!_archived.TryGetValue(node.Id, out var archived)) return;
                if (archived.IsCompletedSuccessfully) _run.Outputs.Remove(node.Id);
                else _pendingPrunes.Add(node.Id);
                return;
            default:
                _run.Outputs.Remove(node.Id);
                return;
        }
    }

    private void ApplyPendingPrunes()
    {
        if (_pendingPrunes.Count == 0) return;
        foreach (var id in _pendingPrunes.ToList())
        {
            if (!_archived.TryGetValue(id, out var archived) || archived.IsFaulted || archived.IsCanceled) _pendingPrunes.Remove(id);
            else if (archived.IsCompletedSuccessfully)
            {
                _run.Outputs.Remove(id);
                _pendingPrunes.Remove(id);
            }
        }
    }

    private async Task<byte[]> ExecTaskAsync(TaskNode task, byte[] input, int epoch, bool isSelector = false)
    {
        while (true)
        {
            await BoundaryAsync(epoch);
            var attempt = 1;
            if (_run.Retries.TryGetValue(task.Id, out var retry))
            {
                attempt = retry.NextAttempt;
                if (retry.NextAttemptAt > DateTimeOffset.UtcNow)
                {
                    // Shown as Waiting until the next attempt; a cancel meanwhile names this task.
                    _waitingDelays[task.Id] = retry.NextAttemptAt;
                    try
                    {
                        await DelayUntilAsync(retry.NextAttemptAt, epoch);
                    }
                    finally
                    {
                        _waitingDelays.Remove(task.Id);
                    }
                    await BoundaryAsync(epoch);
                }
            }

            var result = await DispatchAsync(task, input, attempt, epoch);
            if (result.Outcome == AttemptOutcome.Completed)
            {
                // Checkpointed by the next write, which always precedes the next dispatch or the run's end.
                _run.Retries.Remove(task.Id);
                var completed = new RunHistoryEvent
                {
                    At = DateTimeOffset.UtcNow,
                    Kind = RunEventKind.TaskCompleted,
                    TaskId = task.Id,
                    Attempt = attempt,
                    Duration = TimeSpan.FromMilliseconds(result.DurationMs),
                };
                if (isSelector)
                {
                    // A route key: kept in the state for good, so the route never re-evaluates it.
                    _run.Outputs[task.Id] = result.Output!;
                    _dirty = true;
                    _journal.Append(InstanceId, completed);
                }
                else
                {
                    _archived[task.Id] = _journal.ArchiveAsync(InstanceId, completed, result.Output!);
                    CompleteLeaf(task, result.Output!);
                }
                return result.Output!;
            }

            var failure = result.Failure! with { Attempt = attempt };
            Record(RunEventKind.TaskFailed, task.Id, attempt, TimeSpan.FromMilliseconds(result.DurationMs), errorType: failure.ErrorType, message: failure.Message);
            if (!result.Retryable || attempt >= task.Settings.Retry.MaxAttempts) throw new RunFailedException(failure);
            var nextAt = DateTimeOffset.UtcNow + task.Settings.Retry.GetDelay(attempt, Random.Shared);
            _run.Retries[task.Id] = new RetryCheckpoint { NextAttempt = attempt + 1, NextAttemptAt = nextAt, LastFailure = failure };
            await PersistAsync();
            Ensure(epoch);
            Log.TaskRetryScheduled(_logger, InstanceId, task.Id, attempt, nextAt, failure.Message);
            Record(RunEventKind.RetryScheduled, task.Id, attempt + 1, detail: nextAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
            SayiirTelemetry.TasksRetried.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        }
    }

    private async Task<TaskAttemptResult> DispatchAsync(TaskNode task, byte[] input, int attempt, int epoch)
    {
        if (_dirty) await PersistAsync();
        Ensure(epoch);
        var attemptId = Guid.NewGuid();
        _runningTasks[task.Id] = attemptId;
        try
        {
            Log.TaskDispatched(_logger, InstanceId, task.Id, attempt);
            Record(RunEventKind.TaskStarted, task.Id, attempt);
            var worker = _workers.Worker;
            TaskAttemptResult reply;
            try
            {
                reply = await worker.ExecuteAsync(new TaskAttemptRequest
                {
                    InstanceId = InstanceId,
                    WorkflowName = _run.WorkflowName!,
                    TaskId = task.Id,
                    Attempt = attempt,
                    Input = input,
                    AttemptId = attemptId,
                    Metadata = _run.Metadata,
                    TraceParent = _run.TraceParent,
                });
                while (reply.Outcome == AttemptOutcome.Pending)
                {
                    Ensure(epoch);
                    Log.TaskPending(_logger, InstanceId, task.Id, attempt);
                    // Stateless workers are local, so the attempt runs on this silo and any local worker can await it.
                    reply = await worker.AwaitAsync(attemptId);
                }
            }
            catch (Exception ex) when (epoch == _epoch)
            {
                // The worker call itself failed (shutdown, overload): not an attempt of the task. Park the run;
                // the recovery reminder drives it again (at-least-once).
                throw new RunAbandonedException(ex);
            }
            Ensure(epoch);
            if (reply.Outcome == AttemptOutcome.Abandoned) throw new RunAbandonedException(null);
            return reply;
        }
        finally
        {
            if (_runningTasks.TryGetValue(task.Id, out var current) && current == attemptId) _runningTasks.Remove(task.Id);
        }
    }

    private async Task<byte[]> ExecForkAsync(ForkNode fork, byte[] input, int epoch)
    {
        var running = fork.Branches.Select(b => ExecStepsAsync(b.Steps, input, epoch)).ToArray();
        // Fail fast: the first failing branch fails the run, which stops its siblings.
        var pending = new List<Task<byte[]>>(running);
        while (pending.Count > 0)
        {
            var finished = await Task.WhenAny(pending);
            await finished;
            pending.Remove(finished);
        }
        Ensure(epoch);
        var outputs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < running.Length; i++) outputs[fork.Branches[i].Name] = running[i].Result;
        var results = BranchResults.Encode(outputs);
        return fork.Join is null ? results : await ExecNodeAsync(fork.Join, results, epoch);
    }

    private async Task<byte[]> ExecRouteAsync(RouteNode route, byte[] input, int epoch)
    {
        var keyPayload = _run.Outputs.TryGetValue(route.Id, out var stored) ? stored : await ExecTaskAsync(route.Selector, input, epoch, isSelector: true);
        var key = (string?)DecodeOrFail(keyPayload, typeof(string), route.Id, $"key of route '{route.Id}'") ?? "";
        var branch = BranchFor(route, key)
            ?? throw new RunFailedException(FailureFrom(route.Id, 1, new NoRouteBranchException(route.Id, key)));
        return await ExecStepsAsync(branch.Steps, input, epoch);
    }

    private async Task<byte[]> ExecLoopAsync(LoopNode loop, byte[] input, int epoch)
    {
        var outcomeType = typeof(LoopOutcome<>).MakeGenericType(loop.ValueType);
        var checkpoint = _run.Loops.GetValueOrDefault(loop.Id) ?? new LoopCheckpoint { Iteration = 1, Input = input };
        while (true)
        {
            var bodyOutput = await ExecStepsAsync(loop.Body, checkpoint.Input!, epoch);
            Ensure(epoch);
            var outcome = (ILoopOutcome)DecodeOrFail(bodyOutput, outcomeType, loop.Id, $"outcome of loop '{loop.Id}'")!;
            var value = EncodeOrFail(outcome.BoxedValue, loop.ValueType, loop.Id, $"value of loop '{loop.Id}'");
            if (!outcome.IsDone && checkpoint.Iteration >= loop.MaxIterations)
            {
                if (loop.OnMaxIterations == LoopExhaustion.Fail)
                    throw new RunFailedException(FailureFrom(loop.Id, checkpoint.Iteration, new LoopLimitExceededException(loop.Id, loop.MaxIterations)));
                outcome = new LoopOutcome<object?>(true, null);
            }
            if (outcome.IsDone)
            {
                _run.Loops.Remove(loop.Id);
                CompleteLeaf(loop, value);
                return value;
            }
            // The next iteration's number and input are checkpointed before it starts.
            ForgetProgress(loop.Body);
            checkpoint = new LoopCheckpoint { Iteration = checkpoint.Iteration + 1, Input = value };
            _run.Loops[loop.Id] = checkpoint;
            await PersistAsync();
            Ensure(epoch);
        }
    }

    private async Task<byte[]> ExecDelayAsync(DelayNode delay, byte[] input, int epoch)
    {
        await BoundaryAsync(epoch);
        if (!_run.Deadlines.TryGetValue(delay.Id, out var wakeAt))
        {
            wakeAt = DateTimeOffset.UtcNow + delay.Duration;
            _run.Deadlines[delay.Id] = wakeAt;
        }
        _waitingDelays[delay.Id] = wakeAt;
        await PersistAsync();
        Ensure(epoch);
        Record(RunEventKind.DelayStarted, delay.Id, detail: wakeAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
        await DelayUntilAsync(wakeAt, epoch);
        _waitingDelays.Remove(delay.Id);
        _run.Deadlines.Remove(delay.Id);
        CompleteLeaf(delay, input);
        Record(RunEventKind.DelayWoken, delay.Id);
        return input;
    }

    private async Task<byte[]> ExecSignalAsync(SignalNode signal, int epoch)
    {
        await BoundaryAsync(epoch);
        if (_run.Signals.TryGetValue(signal.SignalName, out var queue) && queue.Count > 0)
        {
            var buffered = queue[0];
            queue.RemoveAt(0);
            if (queue.Count == 0) _run.Signals.Remove(signal.SignalName);
            CompleteLeaf(signal, buffered);
            return buffered;
        }
        DateTimeOffset? timeoutAt = null;
        if (signal.Timeout is { } timeout)
        {
            if (!_run.Deadlines.TryGetValue(signal.Id, out var at))
            {
                at = DateTimeOffset.UtcNow + timeout;
                _run.Deadlines[signal.Id] = at;
            }
            timeoutAt = at;
        }
        var waiter = new SignalWaiter(signal, timeoutAt);
        _signalWaiters.Add(waiter);
        await PersistAsync();
        Ensure(epoch);
        Record(RunEventKind.SignalAwaited, signal.Id, detail: signal.SignalName);
        if (timeoutAt is { } deadline)
        {
            var token = _runCts.Token;
            while (!waiter.Delivered.Task.IsCompleted && DateTimeOffset.UtcNow < deadline)
            {
                var wait = Clamp(deadline - DateTimeOffset.UtcNow);
                await Task.WhenAny(waiter.Delivered.Task, Task.Delay(wait, token));
                Ensure(epoch);
            }
            if (!waiter.Delivered.Task.IsCompleted && _signalWaiters.Remove(waiter))
            {
                _run.Deadlines.Remove(signal.Id);
                if (!signal.HasDefault)
                    throw new RunFailedException(FailureFrom(signal.Id, 1, new SignalTimeoutException(signal.SignalName, timeout: signal.Timeout!.Value)));
                var fallback = EncodeOrFail(signal.DefaultValue, signal.PayloadType, signal.Id, $"default value of signal '{signal.SignalName}'");
                CompleteLeaf(signal, fallback);
                return fallback;
            }
        }
        // Delivered by SignalAsync, which already recorded the payload as this node's output.
        var payload = await waiter.Delivered.Task;
        Ensure(epoch);
        return payload;
    }

    private async Task BoundaryAsync(int epoch)
    {
        // A task that finished as the run was paused is checkpointed now, not when the run is unpaused: a crash or
        // shutdown during a long pause must not re-run it.
        if (_run.Pause is not null && _dirty)
        {
            await PersistAsync();
            Ensure(epoch);
        }
        while (_run.Pause is not null)
        {
            _unpaused ??= NewSignal();
            try
            {
                await _unpaused.Task;
            }
            catch (OperationCanceledException)
            {
                // Cancelled while paused: the epoch check below stops the loop.
            }
            Ensure(epoch);
        }
        Ensure(epoch);
    }

    private async Task DelayUntilAsync(DateTimeOffset at, int epoch)
    {
        var token = _runCts.Token;
        for (var remaining = at - DateTimeOffset.UtcNow; remaining > TimeSpan.Zero; remaining = at - DateTimeOffset.UtcNow)
        {
            await Task.Delay(Clamp(remaining), token);
            Ensure(epoch);
        }
        Ensure(epoch);
    }

    // Task.Delay takes at most ~24.8 days; longer waits go round again.
    private static TimeSpan Clamp(TimeSpan wait) =>
        wait > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;

    /// <summary>Clears everything a loop body recorded, so its next iteration runs afresh.</summary>
    private void ForgetProgress(ImmutableArray<FlowNode> body)
    {
        foreach (var node in body.SelectMany(n => n.SelfAndDescendants()))
        {
            _run.Outputs.Remove(node.Id);
            _run.Done.Remove(node.Id);
            _pendingPrunes.Remove(node.Id);
            _archived.Remove(node.Id);
            _run.Retries.Remove(node.Id);
            _run.Loops.Remove(node.Id);
            _run.Deadlines.Remove(node.Id);
        }
    }

    private void Ensure(int epoch)
    {
        if (epoch != _epoch) throw new RunInterruptedException();
    }

    private object? DecodeOrFail(byte[] payload, Type type, string nodeId, string context)
    {
        try { return _codec.Decode(payload, type, context); }
        catch (PayloadSerializationException ex) { throw new RunFailedException(FailureFrom(nodeId, 1, ex)); }
    }

    private byte[] EncodeOrFail(object? value, Type type, string nodeId, string context)
    {
        try { return _codec.Encode(value, type, context); }
        catch (PayloadSerializationException ex) { throw new RunFailedException(FailureFrom(nodeId, 1, ex)); }
    }

    // ----- persistence ----------------------------------------------------------------------------------------

    /// <summary>Writes the current state; concurrent callers share writes (a call returns once a write that started after it has landed).</summary>
    private Task PersistAsync()
    {
        if (_ownershipLost) return Task.FromException(new RunInterruptedException());
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _writeWaiters.Add((++_requestedWrites, done));
        if (!_writing) _ = WriteLoopAsync();
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        _writing = true;
        try
        {
            while (_completedWrites < _requestedWrites)
            {
                var covered = _requestedWrites;
                _dirty = false;
                ApplyPendingPrunes();
                if (_run.IsActive) _run.Status = DeriveActiveState();
                _run.UpdatedAt = DateTimeOffset.UtcNow;
                _run.WriteToken = Guid.NewGuid();
                var snapshot = _run.Snapshot();
                await WriteWithRetryAsync(snapshot);
                _completedWrites = covered;
                if (snapshot.Status != _listedState)
                {
                    _listedState = snapshot.Status;
                    await _journal.RunChangedAsync(new RunSummary
                    {
                        InstanceId = InstanceId,
                        WorkflowName = snapshot.WorkflowName ?? "",
                        State = snapshot.Status,
                        CreatedAt = snapshot.CreatedAt ?? snapshot.UpdatedAt ?? DateTimeOffset.UtcNow,
                        UpdatedAt = snapshot.UpdatedAt,
                    });
                }
                foreach (var waiter in _writeWaiters.Where(w => w.Target <= covered).ToList())
                {
                    _writeWaiters.Remove(waiter);
                    waiter.Done.TrySetResult();
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var waiter in _writeWaiters) waiter.Done.TrySetException(ex);
            _writeWaiters.Clear();
        }
        finally
        {
            _writing = false;
        }
    }

    private async Task WriteWithRetryAsync(WorkflowRunState snapshot)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _store.State = snapshot;
                var started = Stopwatch.GetTimestamp();
                await _store.WriteStateAsync();
                SayiirTelemetry.CheckpointDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return;
            }
            catch (InconsistentStateException)
            {
                // After an ambiguous failure an earlier try may have committed: then the stored row is ours.
                if (attempt > 1 && await WriteLandedAsync(snapshot.WriteToken)) return;
                // Otherwise another activation owns this run now (force 4): stop, never overwrite the winner.
                Log.LostOwnership(_logger, InstanceId);
                _ownershipLost = true;
                StopDriving();
                DeactivateOnIdle();
                throw new RunInterruptedException();
            }
            catch (Exception ex)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(100 * Math.Pow(2, attempt - 1), _options.MaxStorageRetryDelay.TotalMilliseconds));
                Log.WriteRetry(_logger, ex, InstanceId, attempt, delay);
                await Task.Delay(delay);
            }
        }
    }

    private async Task<bool> WriteLandedAsync(Guid token)
    {
        try
        {
            await _store.ReadStateAsync();
            return _store.State?.WriteToken == token;
        }
        catch (Exception)
        {
            return false;
        }
    }

    // ----- reminders ------------------------------------------------------------------------------------------

    private async Task RegisterReminderAsync()
    {
        var period = _options.RecoveryReminderPeriod;
        _reminder = await this.RegisterOrUpdateReminder(ReminderName, period, period);
    }

    private async Task UnregisterReminderAsync()
    {
        try
        {
            // The handle from registration saves a reminder-table read; after a re-activation it is looked up.
            var reminder = _reminder ?? await this.GetReminder(ReminderName);
            _reminder = null;
            if (reminder is not null) await this.UnregisterReminder(reminder);
        }
        catch (Exception ex)
        {
            // Harmless: a stray reminder finds a finished run and unregisters itself on its next tick.
            Log.ReminderFailed(_logger, ex, InstanceId);
        }
    }

    // ----- status ---------------------------------------------------------------------------------------------

    // A terminal state is reported only once it is durable (the end of the run is signalled after its write).
    private WorkflowState CurrentState() =>
        _run.IsActive ? DeriveActiveState() : _run.IsTerminal && !_ended.Task.IsCompleted ? WorkflowState.Running : _run.Status;

    private WorkflowState DeriveActiveState()
    {
        if (_run.Pause is not null) return WorkflowState.Paused;
        if (_runningTasks.Count > 0) return WorkflowState.Running;
        if (_waitingDelays.Count > 0) return WorkflowState.Waiting;
        if (_signalWaiters.Count > 0) return WorkflowState.AwaitingSignal;
        return _driving ? WorkflowState.Running : _run.Status;
    }

    private string? RunningTaskIds() => _runningTasks.Count == 0 ? null : string.Join(",", _runningTasks.Keys);

    private WorkflowStatus BuildStatus()
    {
        if (!_run.Exists) return new WorkflowStatus { InstanceId = InstanceId, State = WorkflowState.NotFound };
        var state = CurrentState();
        var signalWaiter = _signalWaiters.FirstOrDefault();
        DateTimeOffset? wakeAt = _waitingDelays.Count > 0 ? _waitingDelays.Values.Min()
            : state == WorkflowState.Waiting && _run.Deadlines.Count > 0 ? _run.Deadlines.Values.Min() : null;
        return new WorkflowStatus
        {
            InstanceId = InstanceId,
            State = state,
            WorkflowName = _run.WorkflowName,
            DefinitionHash = _run.DefinitionHash,
            CurrentTaskId = RunningTaskIds(),
            WakeAt = state == WorkflowState.Waiting ? wakeAt : null,
            SignalName = signalWaiter?.SignalName,
            SignalTimeoutAt = signalWaiter?.TimeoutAt,
            Pause = _run.Pause,
            Failure = _run.Failure,
            Cancellation = _run.Cancellation,
            CreatedAt = _run.CreatedAt,
            UpdatedAt = _run.UpdatedAt,
            OutputPayload = state == WorkflowState.Completed ? _run.Output : null,
        };
    }

    private void Record(RunEventKind kind, string? taskId = null, int? attempt = null, TimeSpan? duration = null, string? detail = null,
        string? errorType = null, string? message = null) =>
        _journal.Append(InstanceId, new RunHistoryEvent
        {
            At = DateTimeOffset.UtcNow,
            Kind = kind,
            TaskId = taskId,
            Attempt = attempt,
            Duration = duration,
            Detail = detail,
            ErrorType = errorType,
            Message = message,
        });

    private static string? FormatActor(string? reason, string? by) =>
        reason is null && by is null ? null : $"{by ?? "(unknown)"}: {reason ?? "(no reason)"}";

    private Activity? StartRunActivity(ActivityContext parent, bool resumed)
    {
        var activity = SayiirTelemetry.Source.StartActivity(resumed ? $"run {_run.WorkflowName} (resumed)" : $"run {_run.WorkflowName}", ActivityKind.Internal, parent);
        activity?.SetTag("sayiir.workflow", _run.WorkflowName);
        activity?.SetTag("sayiir.instance_id", InstanceId);
        activity?.SetTag("sayiir.definition_hash", _run.DefinitionHash);
        return activity;
    }

    private static TaskFailure FailureFrom(string taskId, int attempt, Exception error) => new()
    {
        TaskId = taskId,
        Attempt = attempt,
        ErrorType = error.GetType().FullName ?? error.GetType().Name,
        Message = error.Message,
        StackTrace = error.StackTrace,
        At = DateTimeOffset.UtcNow,
    };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class SignalWaiter(SignalNode node, DateTimeOffset? timeoutAt)
    {
        public SignalNode Node { get; } = node;

        public string NodeId => Node.Id;

        public string SignalName => Node.SignalName;

        public DateTimeOffset? TimeoutAt { get; } = timeoutAt;

        public TaskCompletionSource<byte[]> Delivered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The loop was stopped underneath (cancel, termination, failure elsewhere, lost ownership).</summary>
internal sealed class RunInterruptedException() : Exception("The run's drive loop was stopped.");

/// <summary>A task attempt was taken away (shutdown, unreachable worker): the loop parks without recording a failure.</summary>
internal sealed class RunAbandonedException(Exception? cause) : Exception("The task attempt was abandoned.", cause);

/// <summary>The run fails with these details.</summary>
internal sealed class RunFailedException(TaskFailure failure) : Exception(failure.Message)
{
    public TaskFailure Failure { get; } = failure;
}
