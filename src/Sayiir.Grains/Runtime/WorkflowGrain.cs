using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;
using Sayiir.Observability;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>
/// One workflow run: the flow interpreter and the run's requests. The grain is not reentrant, but the run itself is
/// driven by a detached loop on the grain's scheduler: a task is dispatched to a worker and awaited without holding a
/// request, so status, cancel, pause and signal calls are served while a task runs (design force 1), and no call lasts
/// longer than the worker's inline window (force 2). All state changes happen in synchronous stretches between awaits;
/// every await of the loop is followed by an epoch check, so a cancel, failure, termination or lost ownership stops
/// the loop at its next step.
/// <para>
/// Its collaborators hold the rules that must not break: <see cref="RunWriter"/> (one owner per run, the dispatch
/// fence, coalesced and prompt checkpoints, history saved with its change) and <see cref="RunProgress"/> (what is
/// finished, which outputs are still needed). A deactivation that is not a crash hands the run over: attempts in
/// flight finish within <see cref="SayiirOptions.HandoffTimeout"/>, their outputs are saved, then the run is released.
/// </para>
/// </summary>
// The run's CancellationTokenSource has no timer and no unmanaged resource: it is cancelled whenever the run stops
// driving, and disposing it from Orleans' activation teardown could race the detached run loop still reading its token.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "See the comment above.")]
internal sealed partial class WorkflowGrain : Grain, IWorkflowGrain, IRemindable, IIncomingGrainCallFilter
{
    internal const string ReminderName = "sayiir-recovery";

    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromMinutes(1);

    private readonly IPersistentState<WorkflowRunState> _store;
    private readonly WorkflowRegistry _registry;
    private readonly RunningAttempts _attempts;
    private readonly IPayloadCodec _codec;
    private readonly SayiirOptions _options;
    private readonly ILogger<WorkflowGrain> _logger;
    private readonly IRunJournal _journal;
    private readonly LocalWorkers _workers;
    private readonly IRunOwnership _ownership;
    private readonly RunObservers _observers;
    // Engine time: delays, retry backoffs, signal and task timeouts, wake instants, timestamps (a test may register a fake).
    private readonly TimeProvider _time;

    private RunWriter _writer = null!;
    private RunProgress _progress = null!;

    /// <summary>The recovery reminder this activation registered, if any (its ETag lets it be removed without a read).</summary>
    private IGrainReminder? _reminder;
    private Task? _registering;
    // Whether a reminder row may exist (registered by an earlier activation or this one): a run started and ended
    // here without one removes nothing. The timer registers it once the run has driven RecoveryReminderDelay.
    private bool _reminderMayExist;
    private IGrainTimer? _reminderTimer;

    /// <summary>Why an active run cannot be driven on this silo (missing workflow, changed definition); its stored state stays untouched.</summary>
    private SayiirException? _blocked;

    // The loop's generation: bumped whenever the run's trajectory changes underneath it.
    private int _epoch;
    private bool _driving;
    private bool _starting;
    private bool _handingOff;
    private CancellationTokenSource _runCts = new();
    private TaskCompletionSource _ended = NewSignal();
    private TaskCompletionSource? _unpaused;
    private IGrainTimer? _keepAlive;
    private Activity? _runActivity;
    private WorkflowState _listedState;
    private string? _listedHash;

    private readonly Dictionary<string, Guid> _runningTasks = new(StringComparer.Ordinal);
    // When each running attempt with a timeout times out (engine clock at dispatch + timeout; the worker arms its own
    // timer on the same clock), shown as WorkflowStatus.TaskTimeoutAt.
    private readonly Dictionary<string, DateTimeOffset> _taskTimeouts = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, Task> _attemptsInFlight = [];
    private readonly Dictionary<string, DateTimeOffset> _waitingDelays = new(StringComparer.Ordinal);
    private readonly List<SignalWaiter> _signalWaiters = [];

    // Concurrency limits. The drive loop's waits at gates, by holder id (poked by the gate's call back or a reminder
    // tick to ask again); the slots this activation acquires or holds, by holder id, to the gate (what HoldsSlot answers
    // from and what the run's end gives back).
    private readonly Dictionary<string, GateWait> _gateWaits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _gateClaims = new(StringComparer.Ordinal);

    // Compensation. Attempts of compensable tasks in flight, by attempt id, with what their undo would need (set when one
    // settles). When the run starts compensating they are spared (not cancelled): their outcome is awaited, and one that
    // completes is undone with the others instead of leaving an effect nothing undoes.
    private readonly Dictionary<Guid, (UndoRecord Record, TaskCompletionSource Settled)> _undoableInFlight = [];
    private readonly HashSet<string> _sparedTasks = new(StringComparer.Ordinal);
    private readonly List<Task> _sparedSettled = [];

    public WorkflowGrain(
        [PersistentState(RunStateStorage.StateName, SayiirOptions.StorageName)] IPersistentState<WorkflowRunState> store,
        WorkflowRegistry registry, RunningAttempts attempts, IPayloadCodec codec, IOptions<SayiirOptions> options, IRunJournal journal,
        LocalWorkers workers, IRunOwnership ownership, RunObservers observers, [FromKeyedServices(SayiirOptions.TimeProviderKey)] TimeProvider time,
        ClusterPlacement placement, ILogger<WorkflowGrain> logger)
    {
        _placement = placement;
        _observers = observers;
        _time = time;
        _journal = journal;
        _workers = workers;
        _store = store;
        _registry = registry;
        _attempts = attempts;
        _codec = codec;
        _options = options.Value;
        _ownership = ownership;
        _logger = logger;
    }

    private string InstanceId => this.GetPrimaryKeyString();

    private WorkflowRunState _run => _writer.Run;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _writer = new RunWriter(InstanceId, _store, _ownership, _journal, _options.MaxStorageRetryDelay, _logger, _time)
        {
            OnLost = () =>
            {
                StopDriving();
                DeactivateOnIdle();
            },
            BeforeWrite = run =>
            {
                if (run.IsActive) run.Status = DeriveActiveState();
            },
            AfterWrite = snapshot =>
            {
                ForgetSavedRemoteAttempts(snapshot);
                return ListAsync(snapshot);
            },
        };
        _progress = new RunProgress(_writer, _codec, _journal, InstanceId);
        _listedState = _run.Status;
        _listedHash = _run.DefinitionHash;
        _reminderMayExist = _store.RecordExists;
        if (_run.IsTerminal) _ended.TrySetResult();
        if (_run.IsActive) StartDriving();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_writer is null) return;
        if (!_writer.Owns || _writer.Lost)
        {
            StopDriving();
            return;
        }
        // Not a crash (idle collection, directory partition loss, rebalancing, shutdown): start nothing new, let the
        // attempts in flight finish within the window, save their outputs, then let go of the run.
        _handingOff = true;
        SayiirTelemetry.RunsHandedOff.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        var inFlight = _attemptsInFlight.Values.ToList();
        Log.HandingOff(_logger, InstanceId, reason.ToString(), _options.HandoffTimeout, inFlight.Count);
        if (inFlight.Count > 0)
        {
            try
            {
                // wall clock: the hand-off window bounds Orleans' deactivation, which runs on real time.
                await Task.WhenAll(inFlight).WaitAsync(_options.HandoffTimeout, TimeProvider.System, cancellationToken);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                Log.HandoffExpired(_logger, InstanceId, _attemptsInFlight.Count);
            }
        }
        StopDriving();
        // A live silo lets go of an active run: no silo death will make the watcher wake it, so its reminder must exist.
        // Bounded: the reminder service may be stopping too; the start-up sweep covers a cluster stopped whole.
        if (_run.IsActive && _reminder is null) await RegisterReminderAsync(HandoffReminderWait);
        try
        {
            await _writer.ReleaseAsync().WaitAsync(_options.HandoffTimeout, TimeProvider.System, cancellationToken); // wall clock: as above
        }
        catch (Exception ex)
        {
            Log.HandoffWriteFailed(_logger, ex, InstanceId);
            _writer.Abandon();
        }
    }

    /// <summary>
    /// Makes this activation the run's owner (waiting while a previous owner may still finish a task). The state may
    /// have moved on meanwhile — the previous owner saved more, or even ended the run — so callers re-check it after.
    /// </summary>
    private async Task AcquireAsync()
    {
        if (_writer.Owns) return;
        await _writer.AcquireAsync(beforeClaim: () =>
        {
            if (!_run.IsActive) return;
            Log.RunRecovered(_logger, InstanceId, _run.Status);
            Record(RunEventKind.Recovered, detail: _run.Status.ToString());
            _runActivity ??= StartRunActivity(SayiirTelemetry.ParseParent(_run.TraceParent), resumed: true);
        });
        _listedState = _store.State?.Status ?? _listedState;
        if (_run.IsTerminal) _ended.TrySetResult();
    }

    private async ValueTask ListAsync(WorkflowRunState snapshot)
    {
        // Signals buffered for a run that has not started are listed too (not shown by listings), so retention finds them.
        var buffering = !snapshot.Exists && snapshot.Signals.Count > 0;
        if (snapshot.Status == _listedState && snapshot.DefinitionHash == _listedHash && !buffering) return;
        var previous = _listedState;
        _listedState = snapshot.Status;
        _listedHash = snapshot.DefinitionHash;
        // The write has landed: the observers hear of it (queued, never awaited here).
        if (snapshot.Status != previous)
        {
            _observers.Notify(new RunChange
            {
                InstanceId = InstanceId,
                WorkflowName = snapshot.WorkflowName ?? "",
                WorkflowVersion = snapshot.WorkflowVersion,
                DefinitionHash = snapshot.DefinitionHash,
                State = snapshot.Status,
                PreviousState = previous,
                At = snapshot.UpdatedAt ?? _time.GetUtcNow(),
                Failure = snapshot.Failure,
                Cancellation = snapshot.Cancellation,
            });
        }
        await _journal.RunChangedAsync(new RunSummary
        {
            InstanceId = InstanceId,
            WorkflowName = snapshot.WorkflowName ?? "",
            State = snapshot.Status,
            CreatedAt = snapshot.CreatedAt ?? snapshot.UpdatedAt ?? _time.GetUtcNow(),
            UpdatedAt = snapshot.UpdatedAt,
            WorkflowVersion = snapshot.WorkflowVersion,
            DefinitionHash = snapshot.DefinitionHash,
        });
    }

    // ----- requests -------------------------------------------------------------------------------------------

    /// <summary>
    /// A request that finds the run taken over by another activation (its write lost the ETag race, design force 4)
    /// was not applied: the caller gets a public, typed error to retry on, not the loop's internal stop signal.
    /// </summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (RunInterruptedException)
        {
            var method = context.MethodName;
            throw new WorkflowRunMovedException(InstanceId, method.EndsWith("Async", StringComparison.Ordinal) ? method[..^5] : method);
        }
    }

    public async Task<WorkflowStatus> StartAsync(StartRequest request)
    {
        InvalidInstanceIdException.ThrowIfInvalid(InstanceId);
        ArgumentNullException.ThrowIfNull(request);
        if (ConflictOutcome(request) is { } existing) return existing;
        var definition = StartDefinition(request);
        PayloadTooLargeException.ThrowIfTooLarge(request.Input, _options.MaxPayloadBytes, $"input of workflow '{definition.Name}'");
        // Decoding validates the input's shape before anything is written.
        _codec.Decode(request.Input, definition.InputType, $"input of workflow '{definition.Name}'");

        await AcquireAsync();
        // Waiting for a previous owner may have shown a run that exists after all.
        if (ConflictOutcome(request) is { } appeared) return appeared;
        if (_run.Exists)
        {
            Log.RunTerminated(_logger, InstanceId);
            StopDriving();
            _ended.TrySetResult();
        }
        // No drive loop may start (a wake or reminder interleaving here) before the start is saved.
        _starting = true;
        GateHolder? holder = null;
        try
        {
            // No reminder yet: a run registers one only once it outlives RecoveryReminderDelay (ArmRecoveryReminder).
            if (ReminderDelay == TimeSpan.Zero) await RegisterReminderAsync();
            // A terminated run gives its slots back before the new run asks for one.
            if (_run.Exists) await ReleaseSlotsAsync();
            var runId = Guid.NewGuid();
            var granted = true;
            var gate = ConcurrencyGates.ForWorkflow(definition.Name);
            if (WorkflowLimit(definition.Name) is { } limit)
            {
                // Queued at the gate before the run is written, so runs start in the order their starts were accepted. A
                // start that fails after this leaves a slot the gate reclaims (the run answers it does not hold it).
                holder = new GateHolder { InstanceId = InstanceId, RunId = runId };
                _gateClaims[holder.Id] = gate;
                granted = await Gate(gate).AcquireAsync(holder, limit);
            }
            var now = _time.GetUtcNow();
            _writer.Replace(new WorkflowRunState
            {
                WorkflowName = definition.Name,
                WorkflowVersion = definition.Version,
                DefinitionHash = definition.Hash,
                Status = granted ? WorkflowState.Running : WorkflowState.Queued,
                QueuedFor = granted ? null : gate,
                Input = request.Input,
                Metadata = request.Metadata ?? [],
                CreatedAt = now,
                RunId = runId,
                // Signals sent before the run started are kept for it; a terminated run's unconsumed ones go with it.
                Signals = _run.Exists ? [] : _run.Signals,
            });
            _ended = NewSignal();
            _runActivity?.Dispose();
            _runActivity = StartRunActivity(SayiirTelemetry.ParseParent(request.TraceParent), resumed: false);
            _run.TraceParent = _runActivity?.Id;
            Record(RunEventKind.RunStarted, detail: Label(definition.Version, definition.Hash));
            if (!granted) Record(RunEventKind.Queued, detail: ConcurrencyGates.Describe(gate));
            await _writer.PersistAsync();
        }
        catch
        {
            if (holder is not null) _gateClaims.Remove(holder.Id);
            throw;
        }
        finally
        {
            _starting = false;
        }
        Log.RunStarted(_logger, InstanceId, definition.Name, definition.Hash);
        SayiirTelemetry.RunsStarted.Add(1, SayiirTelemetry.WorkflowTag(definition.Name));
        StartDriving();
        return BuildStatus();
    }

    /// <summary>
    /// The definition a start runs: the caller's own (by hash), the pinned version, or the latest registered version.
    /// </summary>
    private WorkflowDefinition StartDefinition(StartRequest request)
    {
        var latest = _registry.Resolve(request.WorkflowName, null);
        if (request.DefinitionHash is { } callerHash)
        {
            var callers = _registry.FindByHash(callerHash);
            if (callers is null || callers.Name != request.WorkflowName)
                throw new DefinitionMismatchException(InstanceId, request.WorkflowName, callerHash, latest.Hash);
            if (request.Version is { } pinned && pinned != callers.Version)
                throw new ArgumentException($"StartOptions.Version '{pinned}' contradicts the definition's own version {WorkflowVersions.Display(callers.Version)}.", nameof(request));
            return callers;
        }
        return request.Version is null ? latest : _registry.Resolve(request.WorkflowName, request.Version);
    }

    /// <summary>The exact definition the run started with, when this silo has it registered.</summary>
    private WorkflowDefinition? RunDefinition => _registry.FindByHash(_run.DefinitionHash);

    /// <summary>Why this silo cannot continue the run: its workflow is not registered at all, or not in the run's version.</summary>
    private SayiirException RunDefinitionMissing() =>
        _registry.Find(_run.WorkflowName!) is { } latest
            ? new DefinitionMismatchException(InstanceId, _run.WorkflowName!, _run.DefinitionHash ?? "(none)", latest.Hash)
            : new WorkflowNotFoundException(_run.WorkflowName!);

    private static string Label(string? version, string? hash) => version is null ? hash ?? "(none)" : $"v{version} ({hash})";

    private WorkflowStatus? ConflictOutcome(StartRequest request)
    {
        if (!_run.Exists) return null;
        return request.OnConflict switch
        {
            ConflictPolicy.UseExisting => BuildStatus(),
            ConflictPolicy.TerminateExisting => null,
            _ => throw new WorkflowAlreadyExistsException(InstanceId, CurrentState()),
        };
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
            // wall clock: a client's long-poll window, bounded by the real call timeout.
            await Task.WhenAny(_ended.Task, Task.Delay(maxWait, TimeProvider.System, window.Token));
            window.Cancel();
        }
        return BuildStatus();
    }

    public async Task<TaskResultReply> GetTaskResultAsync(string taskId)
    {
        if (string.IsNullOrWhiteSpace(taskId)) throw new ArgumentException("A task id must not be empty.", nameof(taskId));
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.Outputs.TryGetValue(taskId, out var payload)) return new TaskResultReply(payload);
        // Finished outputs no later step needs live in the outbox or the archive, not in the run's state.
        if (await IsFinishedAsync(taskId) && (_progress.OutputAtHand(taskId) ?? await _journal.ReadTaskOutputAsync(InstanceId, taskId)) is { } archived)
            return new TaskResultReply(archived);
        throw NoTaskResult(taskId);
    }

    /// <summary>Whether the leaf <paramref name="taskId"/> is finished: in Done, or in a top-level step before the cursor.</summary>
    private async Task<bool> IsFinishedAsync(string taskId)
    {
        if (_run.Done.Contains(taskId)) return true;
        if (_run.DoneThrough == 0) return false;
        // Where the node sits: from the run's definition, or its catalogued shape when this silo does not register it. A
        // node of a route branch not taken has no archived output, so the caller still finds none.
        int? top = RunDefinition is { } definition
            ? definition.NodesById.TryGetValue(taskId, out var node) ? FlowIndex.For(definition).TopPosition(node) : null
            : await _journal.ReadDefinitionShapeAsync(_run.DefinitionHash ?? "") is { } stored ? FlowShape.Parse(stored).TopPosition(taskId) : null;
        return top < _run.DoneThrough;
    }

    /// <summary>Says why a run has no output for <paramref name="taskId"/>, as far as the registered definition tells.</summary>
    private TaskResultNotFoundException NoTaskResult(string taskId)
    {
        var definition = RunDefinition;
        // Without the run's own definition this silo cannot tell an unknown id from an unfinished task.
        if (definition is null) return new TaskResultNotFoundException(InstanceId, taskId);
        if (!definition.NodesById.TryGetValue(taskId, out var node))
            return new TaskResultNotFoundException(InstanceId, taskId, $"Run '{InstanceId}' (workflow '{definition.Name}') has no task or signal wait with id '{taskId}'.");
        if (node is ForkNode or ChildFlowNode)
            return new TaskResultNotFoundException(InstanceId, taskId, $"'{taskId}' of run '{InstanceId}' is a {node.Kind}, which records no output of its own: ask for its join or its last task.");
        var state = CurrentState();
        return new TaskResultNotFoundException(InstanceId, taskId, state is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled
            ? $"Task '{taskId}' of run '{InstanceId}' has no output: it did not run, or did not complete, before the run ended ({state})."
            : $"Task '{taskId}' of run '{InstanceId}' has not completed yet (the run is {state}).");
    }

    public async Task<WorkflowStatus> ResumeAsync()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        // Resume is "make sure it progresses": nothing to do for a run that ended well, was cancelled or compensated.
        if (_run.Status is WorkflowState.Completed or WorkflowState.Cancelled or WorkflowState.Compensated) return BuildStatus();
        if (RunDefinition is null) throw RunDefinitionMissing();
        if (_run.Status != WorkflowState.Failed)
        {
            StartDriving();
            return BuildStatus();
        }
        await AcquireAsync();
        if (_run.Status != WorkflowState.Failed)
        {
            StartDriving();
            return BuildStatus();
        }
        // The reminder first: if storage refuses it, nothing has changed.
        await RegisterReminderAsync();
        if (_run.UndoFailed.Count > 0)
        {
            ResumeCompensation();
            await _writer.PersistAsync();
            Log.CompensationStarted(_logger, InstanceId, "resumed", _run.Undo.Count);
            _runActivity ??= StartRunActivity(SayiirTelemetry.ParseParent(_run.TraceParent), resumed: true);
            StartDriving();
            return BuildStatus();
        }
        // The failed task starts over with a fresh retry budget; completed tasks keep their outputs.
        if (_run.Failure?.TaskId is { } failedTask) _run.Retries.Remove(failedTask);
        _run.Failure = null;
        _run.Status = WorkflowState.Running;
        _ended = NewSignal();
        Record(RunEventKind.Resumed);
        await _writer.PersistAsync();
        Log.RunResumed(_logger, InstanceId);
        _runActivity ??= StartRunActivity(SayiirTelemetry.ParseParent(_run.TraceParent), resumed: true);
        StartDriving();
        return BuildStatus();
    }

    public Task<WorkflowStatus> CancelAsync(string? reason, string? by) => CancelCoreAsync(reason, by, compensate: false);

    public Task<WorkflowStatus> CancelAndCompensateAsync(string? reason, string? by) => CancelCoreAsync(reason, by, compensate: true);

    private async Task<WorkflowStatus> CancelCoreAsync(string? reason, string? by, bool compensate)
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.Status == WorkflowState.Cancelled) return BuildStatus();
        RefuseCancelInState();
        await AcquireAsync();
        if (_run.Status == WorkflowState.Cancelled) return BuildStatus();
        RefuseCancelInState();
        // The running task(s), else the delay or signal wait the run was parked on.
        var interrupted = RunningTaskIds()
            ?? (_waitingDelays.Count > 0 ? string.Join(",", _waitingDelays.Keys) : null)
            ?? (_signalWaiters.Count > 0 ? string.Join(",", _signalWaiters.Select(w => w.NodeId)) : null);
        if (compensate && (_run.Undo.Count > 0 || _undoableInFlight.Count > 0))
        {
            var cancellation = new CancellationInfo { Reason = reason, By = by, At = _time.GetUtcNow(), InterruptedTaskId = interrupted };
            await StartCompensatingAsync(null, cancellation);
            return BuildStatus();
        }
        StopDriving();
        _run.Status = WorkflowState.Cancelled;
        _run.Pause = null;
        _run.Cancellation = new CancellationInfo { Reason = reason, By = by, At = _time.GetUtcNow(), InterruptedTaskId = interrupted };
        Record(RunEventKind.Cancelled, taskId: interrupted, detail: FormatActor(reason, by));
        await _writer.PersistAsync();
        Log.RunCancelled(_logger, InstanceId, by, reason);
        SayiirTelemetry.RunsCancelled.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        await EndRunAsync();
        return BuildStatus();
    }

    private void RefuseCancelInState()
    {
        if (_run.Compensating)
            throw new InvalidRunStateException(InstanceId, "cancel", CurrentState(), "It is undoing its completed steps: it ends Compensated, or Failed if an undo step fails.");
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, "cancel", _run.Status);
    }

    public async Task<WorkflowStatus> PauseAsync(string? reason, string? by)
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, "pause", _run.Status);
        if (_run.Pause is not null) return BuildStatus();
        await AcquireAsync();
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, "pause", _run.Status);
        if (_run.Pause is not null) return BuildStatus();
        _run.Pause = new PauseInfo { Reason = reason, By = by, At = _time.GetUtcNow() };
        Record(RunEventKind.Paused, detail: FormatActor(reason, by));
        await _writer.PersistAsync();
        Log.RunPaused(_logger, InstanceId, by, reason);
        return BuildStatus();
    }

    public async Task<WorkflowStatus> UnpauseAsync()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.Pause is null) return BuildStatus();
        await AcquireAsync();
        if (_run.Pause is null) return BuildStatus();
        _run.Pause = null;
        Record(RunEventKind.Unpaused);
        await _writer.PersistAsync();
        Log.RunUnpaused(_logger, InstanceId);
        _unpaused?.TrySetResult();
        _unpaused = null;
        StartDriving();
        return BuildStatus();
    }

    public async Task SignalAsync(string signalName, byte[] payload)
    {
        if (string.IsNullOrWhiteSpace(signalName)) throw new ArgumentException("A signal name must not be empty.", nameof(signalName));
        PayloadTooLargeException.ThrowIfTooLarge(payload, _options.MaxPayloadBytes, $"payload of signal '{signalName}'");
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, $"signal '{signalName}' to", _run.Status);
        await AcquireAsync();
        if (_run.IsTerminal) throw new InvalidRunStateException(InstanceId, $"signal '{signalName}' to", _run.Status);
        SayiirTelemetry.SignalsReceived.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        var waiter = _signalWaiters.FirstOrDefault(w => w.SignalName == signalName);
        if (waiter is not null)
        {
            // Delivered straight into the waiting node: one write records both receipt and consumption.
            _signalWaiters.Remove(waiter);
            _run.Deadlines.Remove(waiter.NodeId);
            Record(RunEventKind.SignalReceived, taskId: waiter.NodeId, detail: signalName);
            CompleteSignal(waiter.Node, payload);
            await _writer.PersistAsync();
            waiter.Delivered.TrySetResult(payload);
            return;
        }
        if (!_run.Signals.TryGetValue(signalName, out var queue)) _run.Signals[signalName] = queue = [];
        queue.Add(payload);
        Record(RunEventKind.SignalReceived, detail: signalName);
        await _writer.PersistAsync();
    }

    public async Task<bool> PurgeAsync(DateTimeOffset? endedBefore)
    {
        // Active, absent, or its end still being saved: not purged. Signals buffered for an id whose run never started
        // go the same way once they are old enough.
        var orphanSignals = !_run.Exists && _run.Signals.Count > 0;
        if (!orphanSignals && (!_run.IsTerminal || !_ended.Task.IsCompleted)) return false;
        if (endedBefore is { } cutoff && (_run.UpdatedAt ?? DateTimeOffset.MaxValue) >= cutoff) return false;
        // Nothing of the run may still be on its way to storage (a write landing after the delete would bring it back).
        await _writer.EnsureDurableAsync();
        if (_writer.HasUnsavedChanges || !(_run.IsTerminal || (!_run.Exists && _run.Signals.Count > 0))) return false;
        var workflow = _run.WorkflowName;
        // History first: should the state delete fail, the run is still listed and the next purge finishes the job.
        await _journal.DeleteRunAsync(InstanceId);
        await _store.ClearStateAsync();
        _writer.Deleted();
        _listedState = WorkflowState.NotFound;
        _listedHash = null;
        // A finished run has no reminder left (unregistered when it ended); a stray one, from an unregistration that
        // failed, finds no run at its next tick and unregisters itself, so the purge spends no reminder-table read on it.
        Log.RunPurged(_logger, InstanceId, workflow ?? "");
        SayiirTelemetry.RunsPurged.Add(1, SayiirTelemetry.WorkflowTag(workflow));
        DeactivateOnIdle();
        return true;
    }

    public async Task<WorkflowStatus> UpgradeAsync(string? toVersion)
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        var target = _registry.Resolve(_run.WorkflowName!, toVersion);
        RefuseUpgradeInState();
        await AcquireAsync();
        RefuseUpgradeInState();
        if (target.Hash == _run.DefinitionHash) return BuildStatus();
        // The shape of the run's own definition: registered here, or catalogued when a silo registered it.
        var current = RunDefinition;
        var shape = current is not null ? FlowShape.Of(current)
            : await _journal.ReadDefinitionShapeAsync(_run.DefinitionHash ?? "") is { } stored ? FlowShape.Parse(stored) : null;
        // The steps before the cursor are compared id by id like the others: the cursor expanded over the run's definition.
        HashSet<string> finished = current is not null ? _progress.FinishedIdsOver(FlowIndex.For(current))
            : shape is not null ? [.. _run.Done, .. shape.FinishedIdsBefore(_run.DoneThrough, _progress.RouteKey)]
            : [.. _run.Done];
        var started = finished.Concat(_run.Outputs.Keys).Concat(_run.Retries.Keys).Concat(_run.Loops.Keys).Concat(_run.Deadlines.Keys);
        var differences = shape is null
            ? [$"the run's definition {_run.DefinitionHash} is neither registered nor catalogued (runs started before the catalog existed), so its steps cannot be checked"]
            : shape.DifferencesTo(FlowShape.Of(target), started);
        if (differences.Count > 0)
            throw new IncompatibleUpgradeException(InstanceId, _run.WorkflowName!, _run.DefinitionHash ?? "(none)", target.Version, target.Hash, differences);

        // A parked loop (delay, signal wait, pause, retry backoff) is stopped and driven again on the new definition;
        // RefuseUpgradeInState made sure no task attempt is in flight, so nothing is re-run.
        var from = Label(_run.WorkflowVersion, _run.DefinitionHash);
        StopDriving();
        _run.DefinitionHash = target.Hash;
        _run.WorkflowVersion = target.Version;
        // The cursor counts the old definition's top-level steps: it is given up and counted again over the target's.
        _progress.ExpandCursor(finished);
        _progress.Index = FlowIndex.For(target);
        _progress.AdvanceCursor();
        Record(RunEventKind.Upgraded, detail: $"{from} -> {Label(target.Version, target.Hash)}");
        await _writer.PersistAsync();
        Log.RunUpgraded(_logger, InstanceId, _run.WorkflowName!, from, Label(target.Version, target.Hash));
        _blocked = null;
        if (_run.IsActive) StartDriving();
        return BuildStatus();
    }

    private void RefuseUpgradeInState()
    {
        if (_run.Status is WorkflowState.Completed or WorkflowState.Cancelled or WorkflowState.Compensated)
            throw new InvalidRunStateException(InstanceId, "upgrade", _run.Status);
        if (_run.Compensating || _run.UndoFailed.Count > 0)
            throw new InvalidRunStateException(InstanceId, "upgrade", CurrentState(), "It compensates (or failed compensating): its undo steps run on the definition whose tasks they undo.");
        // An attempt in flight would have to be given up and run again: pause the run first (it stops at the next step).
        if (_runningTasks.Count > 0 && _run.Pause is null)
            throw new InvalidRunStateException(InstanceId, "upgrade (a task is running: pause it first)", WorkflowState.Running);
    }

    public async Task<List<RunHistoryEvent>> GetHistoryAsync()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        var stored = await _journal.ReadHistoryAsync(InstanceId);
        // Events saved with the run's state but not yet confirmed by the journal belong to the history already.
        var seen = stored.Where(e => e.Sequence > 0).Select(e => e.Sequence).ToHashSet();
        var saved = _writer.SavedUnconfirmedEvents().Where(e => !seen.Contains(e.Seq)).Select(e => e.Event with { Sequence = e.Seq });
        return RewindPlan.MarkSuperseded([.. stored.Concat(saved).OrderBy(e => e.Sequence)]);
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
        // A queued run asks its gate again: a call back the gate could not deliver is made good here.
        foreach (var wait in _gateWaits.Values) wait.Poke();
        StartDriving();
        return Task.CompletedTask;
    }

    public Task SlotGrantedAsync(string gate, GateHolder holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (_gateWaits.TryGetValue(holder.Id, out var wait))
        {
            wait.Poke();
            return Task.CompletedTask;
        }
        // A slot for a run that ended or was replaced meanwhile goes back at once.
        if (!_run.IsActive || _run.RunId != holder.RunId) return ReleaseSlotAsync(gate, holder.Id);
        // A queued run not driving here (a whole-cluster restart, say): its loop asks the gate and finds itself holding.
        StartDriving();
        return Task.CompletedTask;
    }

    public Task<SlotClaim> HoldsSlotAsync(string gate, GateHolder holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (_gateClaims.ContainsKey(holder.Id)) return Task.FromResult(SlotClaim.Holds);
        // Nothing stored: a start may be on its way on another activation (the gate gives it a grace period).
        if (!_run.Exists) return Task.FromResult(SlotClaim.NotStarted);
        // A run's workflow slot is held while the run is active, whichever activation drives it; a task's slot only
        // while an activation acquires or runs it (an attempt lost with its silo holds nothing).
        return Task.FromResult(holder.TaskId is null && _run.IsActive && _run.RunId == holder.RunId ? SlotClaim.Holds : SlotClaim.Released);
    }

    public async Task<WorkflowStatus> RewindAsync(string beforeStep, string? reason, string? by)
    {
        if (string.IsNullOrWhiteSpace(beforeStep)) throw new ArgumentException("A step id must not be empty.", nameof(beforeStep));
        _ = CheckRewindable();
        await AcquireAsync();
        // Waiting for a previous owner may have shown a run that moved on.
        var definition = CheckRewindable();
        var index = FlowIndex.For(definition);
        RewindPlan plan;
        try
        {
            plan = RewindPlan.For(definition, index, _run, InstanceId, beforeStep, _progress.FinishedIdsOver(index));
        }
        catch (InvalidRewindStepException refused)
        {
            Log.RewindRefused(_logger, InstanceId, beforeStep, refused.Message);
            throw;
        }
        // A paused run's loop is parked (at a boundary, a delay or a signal wait): it must not move the run meanwhile.
        if (_run.IsActive) StopDriving();
        try
        {
            // The reminder first, as for a resume: the run may be active again once the rewind is written.
            await RegisterReminderAsync();
            _progress.Index = index;
            var rewoundSeq = _run.NextEventSeq;
            _progress.Supersede(plan.Superseded, rewoundSeq);
            // A failed task outside what is superseded (another fork branch) starts over with a fresh retry budget, as on resume.
            if (_run.Failure?.TaskId is { } failedTask) _run.Retries.Remove(failedTask);
            if (_run.IsTerminal)
            {
                _ended = NewSignal();
                // A pause asked for while the last step ran ended with the run: the rewound run is not paused.
                _run.Pause = null;
            }
            _run.Output = null;
            _run.Failure = null;
            _run.Cancellation = null;
            // A paused run is written as Paused (BeforeWrite) and stays so until it is unpaused.
            _run.Status = WorkflowState.Running;
            Record(RunEventKind.Rewound, taskId: beforeStep, detail: plan.Detail(FormatActor(reason, by)));
            await _writer.PersistAsync();
            Log.RunRewound(_logger, InstanceId, beforeStep, by, reason, CurrentState(), string.Join(",", plan.Superseded.Select(n => n.Id)));
            _runActivity ??= StartRunActivity(SayiirTelemetry.ParseParent(_run.TraceParent), resumed: true);
        }
        finally
        {
            // Also after a failed write: a paused run whose rewind did not land goes on parking as before.
            StartDriving();
        }
        return BuildStatus();
    }

    /// <summary>The run's definition, if the run may be rewound now; otherwise the typed refusal (nothing is changed).</summary>
    private WorkflowDefinition CheckRewindable()
    {
        if (!_run.Exists) throw new WorkflowRunNotFoundException(InstanceId);
        if (_run.Compensating || _run.Status == WorkflowState.Compensated || _run.UndoFailed.Count > 0)
            throw new InvalidRunStateException(InstanceId, "rewind", CurrentState(),
                "It compensated (or is compensating): its completed steps were undone, so none of them can be taken as done again.");
        if (_run.IsTerminal && !_ended.Task.IsCompleted)
            throw new InvalidRunStateException(InstanceId, "rewind", CurrentState(), "Its end is being saved: call again in a moment.");
        if (_run.IsActive && _run.Pause is null)
            throw new InvalidRunStateException(InstanceId, "rewind", CurrentState(), "Pause it first (or wait until it has ended).");
        if (_runningTasks.Count > 0)
            throw new InvalidRunStateException(InstanceId, "rewind", CurrentState(),
                $"Task(s) {RunningTaskIds()} still run: wait until the paused run has stopped at its next step boundary.");
        return RunDefinition ?? throw RunDefinitionMissing();
    }

    // ----- the drive loop -------------------------------------------------------------------------------------

    private void StartDriving()
    {
        if (_driving || _starting || _handingOff || !_run.IsActive || _writer.Lost) return;
        var definition = RunDefinition;
        if (definition is null)
        {
            _blocked = RunDefinitionMissing();
            if (_blocked is DefinitionMismatchException mismatch)
                Log.DefinitionChanged(_logger, InstanceId, mismatch.WorkflowName, Label(_run.WorkflowVersion, _run.DefinitionHash), mismatch.CurrentHash);
            else
                Log.WorkflowMissing(_logger, InstanceId, _run.WorkflowName!);
            return;
        }
        _blocked = null;
        _driving = true;
        SayiirTelemetry.RunsInFlight.Add(1);
        _keepAlive ??= this.RegisterGrainTimer(static () => Task.CompletedTask,
            new GrainTimerCreationOptions { DueTime = KeepAlivePeriod, Period = KeepAlivePeriod, KeepAlive = true, Interleave = true });
        ArmRecoveryReminder();
        _ = DriveAsync(definition, _epoch);
    }

    /// <summary>Stops the loop: bumps the epoch, gives up running attempts (their tokens fire), wakes every wait so it can observe the stop.</summary>
    private void StopDriving()
    {
        _epoch++;
        if (_driving) SayiirTelemetry.RunsInFlight.Add(-1);
        _driving = false;
        _runCts.Cancel();
        _runCts.Dispose();
        _runCts = new CancellationTokenSource();
        foreach (var (taskId, attemptId) in _runningTasks)
        {
            if (!_sparedTasks.Contains(taskId)) _attempts.Abandon(attemptId);
        }
        AbandonRemoteAttempts();
        foreach (var waiter in _signalWaiters) waiter.Delivered.TrySetCanceled();
        foreach (var wait in _gateWaits.Values) wait.Poke();
        _gateWaits.Clear();
        _runningTasks.Clear();
        _taskTimeouts.Clear();
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
            await AcquireAsync();
            Ensure(epoch);
            if (!_run.IsActive || _run.DefinitionHash != definition.Hash)
            {
                // The previous owner ended the run (or it was replaced) while this activation waited for it.
                StopDriving();
                return;
            }
            if (_run.Compensating)
            {
                // Undo steps take no concurrency slot: a run that undoes must not queue behind new work.
                await CompensateAsync(definition, epoch);
                return;
            }
            if (_run.QueuedFor is { } queuedAt && GateLimit(queuedAt) is null)
            {
                // Queued at a limit the silos no longer configure: nothing to wait for.
                _run.QueuedFor = null;
                Record(RunEventKind.Dequeued, detail: ConcurrencyGates.Describe(queuedAt));
                _writer.Changed();
            }
            // Asked again at every drive start, also right after a granted start: idempotent (no write when it holds), and
            // a slot the gate reclaimed meanwhile is not run on.
            if (WorkflowLimit(definition.Name) is { } limit)
            {
                await WaitForSlotAsync(ConcurrencyGates.ForWorkflow(definition.Name), new GateHolder { InstanceId = InstanceId, RunId = _run.RunId }, limit, epoch);
            }
            _progress.Index = FlowIndex.For(definition);
            // A state written before the cursor existed holds every finished id: compacted here, saved by the next write.
            _progress.AdvanceCursor();
            var output = await ExecStepsAsync(definition.Steps, _run.Input!, epoch);
            Ensure(epoch);
            _run.Status = WorkflowState.Completed;
            _run.Output = output;
            StopDriving();
            Record(RunEventKind.Completed);
            await _writer.PersistAsync();
            Log.RunCompleted(_logger, InstanceId);
            SayiirTelemetry.RunsCompleted.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
            await EndRunAsync();
        }
        catch (Exception) when (epoch != _epoch)
        {
            // Stopped by cancel, termination, failure elsewhere in the run, or lost ownership.
        }
        catch (RunAbandonedException abandoned)
        {
            // The silo is going away, the run is being handed over, or the worker is unreachable: leave the state as
            // checkpointed; the recovery reminder (here or on another silo) or the next owner drives the run again.
            // While handing over, the deactivation stops the loop itself once the attempts in flight are saved.
            if (_handingOff) return;
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
        if (_run.Compensating)
        {
            // The engine itself failed while undoing (not an undo step): what is left to undo is reported as failed.
            await EndCompensationAsync(failure);
            return;
        }
        if (_run.Undo.Count > 0 || _undoableInFlight.Count > 0)
        {
            await StartCompensatingAsync(failure, null);
            return;
        }
        StopDriving();
        _run.Status = WorkflowState.Failed;
        _run.Failure = failure;
        // A pause ends with the run; a later resume starts it running, not paused.
        _run.Pause = null;
        Record(RunEventKind.Failed, failure.TaskId, failure.Attempt, errorType: failure.ErrorType, message: failure.Message);
        try
        {
            await _writer.PersistAsync();
        }
        catch (RunInterruptedException)
        {
            return;
        }
        Log.RunFailed(_logger, InstanceId, failure.TaskId, failure.Attempt, failure.ErrorType, failure.Message);
        SayiirTelemetry.RunsFailed.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        _runActivity?.SetStatus(ActivityStatusCode.Error, failure.Message);
        _runActivity?.SetTag("error.type", failure.ErrorType);
        await EndRunAsync();
    }

    // ----- compensation ---------------------------------------------------------------------------------------

    private UndoRecord UndoRecordFor(TaskNode task, byte[] input, byte[] output) => new()
    {
        TaskId = task.Id,
        Input = input,
        Output = output,
        IdempotencyKey = _progress.IdempotencyKey(task),
        LoopIteration = _progress.LoopIteration(task),
    };

    /// <summary>
    /// Stops running steps and starts undoing: the cause (a failure, or a cancel with compensation) and the switch are
    /// saved in one write, then the loop drives the undo steps. Attempts of compensable tasks in flight are not cancelled:
    /// their outcome is awaited first, so one that completes is undone too.
    /// </summary>
    private async Task StartCompensatingAsync(TaskFailure? failure, CancellationInfo? cancellation)
    {
        _sparedSettled.Clear();
        foreach (var inFlight in _undoableInFlight.Values)
        {
            _sparedTasks.Add(inFlight.Record.TaskId);
            _sparedSettled.Add(inFlight.Settled.Task);
        }
        StopDriving();
        _run.Compensating = true;
        _run.Failure = failure;
        _run.Cancellation = cancellation;
        // A pause ends with the steps: the undo goes on by itself (it can be paused again).
        _run.Pause = null;
        if (failure is not null)
            Record(RunEventKind.CompensationStarted, failure.TaskId, failure.Attempt, errorType: failure.ErrorType, message: failure.Message);
        else
            Record(RunEventKind.CompensationStarted, cancellation?.InterruptedTaskId, detail: JoinLines("cancelled", FormatActor(cancellation?.Reason, cancellation?.By)));
        try
        {
            await _writer.PersistAsync();
        }
        catch (RunInterruptedException)
        {
            return;
        }
        var cause = failure is not null ? $"task {failure.TaskId} failed: {failure.ErrorType}: {failure.Message}" : $"cancelled by {cancellation?.By ?? "(unknown)"}";
        Log.CompensationStarted(_logger, InstanceId, cause, _run.Undo.Count + _sparedSettled.Count);
        StartDriving();
    }

    private static string JoinLines(string first, string? second) => second is null ? first : $"{first}\n{second}";

    /// <summary>A resume of a run whose undo steps failed: they run again, the latest completion first, with fresh retry budgets.</summary>
    private void ResumeCompensation()
    {
        // UndoFailed is in the order the steps ran (latest completion first); Undo is a stack in completion order.
        for (var i = _run.UndoFailed.Count - 1; i >= 0; i--)
            _run.Undo.Add(_run.UndoFailed[i] with { Failure = null, NextAttempt = 1, NextAttemptAt = null });
        _run.UndoFailed.Clear();
        _run.Compensating = true;
        _run.Status = WorkflowState.Running;
        // A cancel's undo failure stood in as the run's failure; a failure's cause stays.
        if (_run.Cancellation is not null) _run.Failure = null;
        _ended = NewSignal();
        Record(RunEventKind.CompensationStarted, detail: "resumed");
    }

    private async Task CompensateAsync(WorkflowDefinition definition, int epoch)
    {
        if (_sparedSettled.Count > 0)
        {
            // Attempts of compensable tasks still in flight when the run stopped: those that complete join the undo list.
            await Task.WhenAll(_sparedSettled);
            _sparedSettled.Clear();
            Ensure(epoch);
        }
        _progress.Index = FlowIndex.For(definition);
        var tasks = definition.Steps.SelectMany(n => n.SelfAndDescendants()).OfType<TaskNode>().ToDictionary(t => t.Id, StringComparer.Ordinal);
        while (_run.Undo.Count > 0)
        {
            var record = _run.Undo[^1];
            await UndoAsync(tasks.GetValueOrDefault(record.TaskId), record, epoch);
            Ensure(epoch);
        }
        await EndCompensationAsync(null);
    }

    /// <summary>Runs one undo step to completion or to its last failure; either way it leaves <see cref="WorkflowRunState.Undo"/>.</summary>
    private async Task UndoAsync(TaskNode? task, UndoRecord record, int epoch)
    {
        while (true)
        {
            await BoundaryAsync(epoch);
            if (record.NextAttemptAt is { } due && due > _time.GetUtcNow())
            {
                _waitingDelays[record.TaskId] = due;
                try
                {
                    RegisterReminderToPark(due);
                    await DelayUntilAsync(due, epoch);
                }
                finally
                {
                    _waitingDelays.Remove(record.TaskId);
                }
                await BoundaryAsync(epoch);
            }
            var attempt = record.NextAttempt;
            var processed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attemptId = Guid.NewGuid();
            try
            {
                var result = task?.Compensation is null
                    ? new TaskAttemptResult
                    {
                        Outcome = AttemptOutcome.Failed,
                        Failure = FailureFrom(record.TaskId, attempt, new SayiirException($"Task '{record.TaskId}' has no compensation in the run's definition.")),
                    }
                    : await DispatchAsync(task, record.Input, attempt, attemptId, processed, epoch, record);
                // Leaves the state with the write that saves this result, never before it.
                _run.RemoteAttempts?.Remove(record.TaskId);
                RecordLogs(record.TaskId, attempt, result.Logs);
                if (result.Outcome == AttemptOutcome.Completed)
                {
                    _run.Undo.RemoveAt(_run.Undo.Count - 1);
                    Record(RunEventKind.CompensationTaskCompleted, record.TaskId, attempt, TimeSpan.FromMilliseconds(result.DurationMs));
                    // Durable before the next undo step starts (its dispatch fence) or with the run's end.
                    _writer.Changed();
                    _writer.FlushSoon();
                    Log.TaskCompensated(_logger, InstanceId, record.TaskId, attempt);
                    SayiirTelemetry.TasksCompensated.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
                    return;
                }
                var failure = result.Failure! with { Attempt = attempt };
                Record(RunEventKind.CompensationTaskFailed, record.TaskId, attempt, TimeSpan.FromMilliseconds(result.DurationMs), errorType: failure.ErrorType, message: failure.Message);
                var retry = task?.CompensationRetry ?? RetryPolicy.None;
                if (!result.Retryable || attempt >= retry.MaxAttempts)
                {
                    // Reported, and the others are still undone: one failed undo must not leave the rest in place.
                    _run.Undo.RemoveAt(_run.Undo.Count - 1);
                    _run.UndoFailed.Add(record with { Failure = failure, NextAttemptAt = null });
                    _writer.Changed();
                    Log.CompensationTaskFailed(_logger, InstanceId, record.TaskId, attempt, failure.ErrorType, failure.Message);
                    return;
                }
                var nextAt = _time.GetUtcNow() + retry.GetDelay(attempt, Random.Shared);
                record = record with { NextAttempt = attempt + 1, NextAttemptAt = nextAt };
                _run.Undo[^1] = record;
                Record(RunEventKind.RetryScheduled, record.TaskId, attempt + 1, detail: nextAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
                processed.TrySetResult();
                await _writer.PersistAsync();
                Ensure(epoch);
                Log.CompensationRetryScheduled(_logger, InstanceId, record.TaskId, attempt, nextAt, failure.Message);
            }
            finally
            {
                processed.TrySetResult();
                _attemptsInFlight.Remove(attemptId);
            }
        }
    }

    /// <summary>
    /// Ends a compensating run: Compensated when every undo step completed, else Failed with the failed ones listed
    /// (<paramref name="engineFailure"/>: the engine failed while undoing, and what was left counts as failed).
    /// </summary>
    private async Task EndCompensationAsync(TaskFailure? engineFailure)
    {
        StopDriving();
        if (engineFailure is not null)
        {
            for (var i = _run.Undo.Count - 1; i >= 0; i--) _run.UndoFailed.Add(_run.Undo[i] with { Failure = engineFailure with { TaskId = _run.Undo[i].TaskId } });
            _run.Undo.Clear();
        }
        _run.Compensating = false;
        _run.Pause = null;
        var failed = string.Join(",", _run.UndoFailed.Select(r => r.TaskId));
        if (_run.UndoFailed.Count == 0)
        {
            _run.Status = WorkflowState.Compensated;
            Record(RunEventKind.Compensated);
        }
        else
        {
            _run.Status = WorkflowState.Failed;
            // A cancel has no failure of its own: the first failed undo step stands in.
            _run.Failure ??= _run.UndoFailed[0].Failure;
            Record(RunEventKind.Failed, _run.Failure!.TaskId, _run.Failure.Attempt, errorType: _run.Failure.ErrorType, message: _run.Failure.Message,
                detail: $"compensation failed: {failed}");
        }
        try
        {
            await _writer.PersistAsync();
        }
        catch (RunInterruptedException)
        {
            return;
        }
        if (_run.Status == WorkflowState.Compensated)
        {
            Log.RunCompensated(_logger, InstanceId);
            SayiirTelemetry.RunsCompensated.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        }
        else
        {
            Log.CompensationFailed(_logger, InstanceId, failed);
            SayiirTelemetry.RunsFailed.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
            _runActivity?.SetStatus(ActivityStatusCode.Error, "compensation failed");
        }
        await EndRunAsync();
    }

    private async Task EndRunAsync()
    {
        _ended.TrySetResult();
        if (_run.CreatedAt is { } created)
            SayiirTelemetry.RunDuration.Record((_time.GetUtcNow() - created).TotalSeconds, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
        if (_runActivity is not null)
        {
            _runActivity.SetTag("sayiir.outcome", _run.Status.ToString());
            _runActivity.Dispose();
            _runActivity = null;
        }
        DisarmReminderTimer();
        await UnregisterReminderAsync();
        await ReleaseSlotsAsync();
    }

    private async Task<byte[]> ExecStepsAsync(ImmutableArray<FlowNode> steps, byte[] input, int epoch)
    {
        // Finished steps form a prefix: resume after the last of them, from its (retained) output.
        var start = 0;
        for (var i = steps.Length - 1; i >= 0; i--)
        {
            if (!_progress.IsDone(steps[i])) continue;
            start = i + 1;
            break;
        }
        var value = start == 0 ? input : await _progress.OutputOfAsync(steps[start - 1]);
        for (var i = start; i < steps.Length; i++) value = await ExecNodeAsync(steps[i], value, epoch);
        return value;
    }

    private async Task<byte[]> ExecNodeAsync(FlowNode node, byte[] input, int epoch)
    {
        Ensure(epoch);
        if (_progress.IsDone(node)) return await _progress.OutputOfAsync(node);
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


    private async Task<byte[]> ExecTaskAsync(TaskNode task, byte[] input, int epoch, bool isSelector = false)
    {
        while (true)
        {
            await BoundaryAsync(epoch);
            var attempt = 1;
            if (_run.Retries.TryGetValue(task.Id, out var retry))
            {
                attempt = retry.NextAttempt;
                if (retry.NextAttemptAt > _time.GetUtcNow())
                {
                    // Shown as Waiting until the next attempt; a cancel meanwhile names this task.
                    _waitingDelays[task.Id] = retry.NextAttemptAt;
                    try
                    {
                        RegisterReminderToPark(retry.NextAttemptAt);
                        await DelayUntilAsync(retry.NextAttemptAt, epoch);
                    }
                    finally
                    {
                        _waitingDelays.Remove(task.Id);
                    }
                    await BoundaryAsync(epoch);
                }
            }

            // A hand-off waits until the attempt's result is processed (and so in the state it saves on leaving).
            var processed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attemptId = Guid.NewGuid();
            try
            {
                var result = await DispatchWithinLimitAsync(task, input, attempt, attemptId, processed, epoch);
                // Leaves the state with the write that saves this result, never before it.
                _run.RemoteAttempts?.Remove(task.Id);
                // Saved by the write that saves the attempt's outcome, just before its event.
                RecordLogs(task.Id, attempt, result.Logs);
                if (result.Outcome == AttemptOutcome.Completed)
                {
                    _run.Retries.Remove(task.Id);
                    var completed = new RunHistoryEvent
                    {
                        At = _time.GetUtcNow(),
                        Kind = RunEventKind.TaskCompleted,
                        TaskId = task.Id,
                        Attempt = attempt,
                        Duration = TimeSpan.FromMilliseconds(result.DurationMs),
                    };
                    if (isSelector)
                    {
                        // A route key: kept in the state for good, so the route never re-evaluates it.
                        _run.Outputs[task.Id] = result.Output!;
                        _writer.Record(completed);
                        _writer.Changed();
                        _writer.FlushSoon();
                    }
                    else
                    {
                        // In the state while a later step needs it, archived with its event; durable within one
                        // coalesced write whatever the rest of the run is doing.
                        _writer.Record(completed);
                        // What its undo step needs, saved by the same write as the completion.
                        if (task.Compensation is not null) _run.Undo.Add(UndoRecordFor(task, input, result.Output!));
                        _progress.CompleteLeaf(task, result.Output!);
                    }
                    return result.Output!;
                }

                var failure = result.Failure! with { Attempt = attempt };
                Record(RunEventKind.TaskFailed, task.Id, attempt, TimeSpan.FromMilliseconds(result.DurationMs), errorType: failure.ErrorType, message: failure.Message);
                if (!result.Retryable || attempt >= task.Settings.Retry.MaxAttempts) throw new RunFailedException(failure);
                var nextAt = _time.GetUtcNow() + task.Settings.Retry.GetDelay(attempt, Random.Shared);
                _run.Retries[task.Id] = new RetryCheckpoint { NextAttempt = attempt + 1, NextAttemptAt = nextAt };
                Record(RunEventKind.RetryScheduled, task.Id, attempt + 1, detail: nextAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
                processed.TrySetResult();
                await _writer.PersistAsync();
                Ensure(epoch);
                Log.TaskRetryScheduled(_logger, InstanceId, task.Id, attempt, nextAt, failure.Message);
                SayiirTelemetry.TasksRetried.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
            }
            finally
            {
                processed.TrySetResult();
                _attemptsInFlight.Remove(attemptId);
            }
        }
    }

    /// <summary>
    /// Dispatches the attempt once its concurrency key (if limited) grants it a slot, and gives the slot back as soon as
    /// the attempt is over (a retry's backoff holds none).
    /// </summary>
    private async Task<TaskAttemptResult> DispatchWithinLimitAsync(TaskNode task, byte[] input, int attempt, Guid attemptId, TaskCompletionSource processed, int epoch)
    {
        if (task.Settings.ConcurrencyKey is not { } key || !_options.ConcurrencyKeyLimits.TryGetValue(key, out var limit))
            return await DispatchAsync(task, input, attempt, attemptId, processed, epoch);
        var gate = ConcurrencyGates.ForKey(key);
        var holder = new GateHolder { InstanceId = InstanceId, RunId = _run.RunId, TaskId = task.Id };
        while (true)
        {
            await WaitForSlotAsync(gate, holder, limit, epoch);
            // Paused while it waited: the slot goes to someone else until the run is unpaused.
            if (_run.Pause is null) break;
            await ReleaseSlotAsync(gate, holder.Id);
            await BoundaryAsync(epoch);
        }
        try
        {
            return await DispatchAsync(task, input, attempt, attemptId, processed, epoch);
        }
        finally
        {
            await ReleaseSlotAsync(gate, holder.Id);
        }
    }

    /// <summary>
    /// Waits until <paramref name="holder"/> holds a slot at <paramref name="gate"/>. Nothing waits inside a grain call:
    /// a refused acquire leaves the holder queued at the gate, the run is saved as Queued, and the loop parks until the
    /// gate calls back (or a reminder tick makes it ask again). Stopping the loop (cancel, hand-off) wakes it.
    /// </summary>
    private async Task WaitForSlotAsync(string gate, GateHolder holder, int limit, int epoch)
    {
        _gateClaims[holder.Id] = gate;
        // Stored as queued at this gate (a recovered queued run): its grant is recorded like any other.
        var queued = _run.Status == WorkflowState.Queued && _run.QueuedFor == gate;
        var wait = new GateWait(gate, holder) { Queued = queued };
        _gateWaits[holder.Id] = wait;
        try
        {
            while (true)
            {
                var poked = wait.Reset();
                bool granted;
                try
                {
                    granted = await Gate(gate).AcquireAsync(holder, limit);
                }
                catch (Exception ex) when (epoch == _epoch)
                {
                    // The gate is unreachable (a silo going, storage down): park; the reminder drives the run again.
                    throw new RunAbandonedException(ex);
                }
                Ensure(epoch);
                if (granted) break;
                if (!wait.Queued)
                {
                    wait.Queued = true;
                    _run.QueuedFor = gate;
                    Record(RunEventKind.Queued, holder.TaskId, detail: ConcurrencyGates.Describe(gate));
                    Log.RunQueued(_logger, InstanceId, gate, holder.TaskId);
                    await _writer.PersistAsync();
                    Ensure(epoch);
                }
                await poked;
                Ensure(epoch);
            }
            if (wait.Queued)
            {
                _gateWaits.Remove(holder.Id);
                if (_run.QueuedFor == gate) _run.QueuedFor = _gateWaits.Values.FirstOrDefault(w => w.Queued)?.Gate;
                Record(RunEventKind.Dequeued, holder.TaskId, detail: ConcurrencyGates.Describe(gate));
                Log.RunDequeued(_logger, InstanceId, gate, holder.TaskId);
                // Saved by the next write (the dispatch fence, or the next checkpoint).
                _writer.Changed();
            }
        }
        finally
        {
            _gateWaits.Remove(holder.Id);
        }
    }

    private IConcurrencyGateGrain Gate(string gate) => GrainFactory.GetGrain<IConcurrencyGateGrain>(gate);

    /// <summary>The configured limit of a gate (a workflow's or a key's), or null when this silo configures none.</summary>
    private int? GateLimit(string gate) =>
        ConcurrencyGates.KeyOf(gate) is { } key
            ? _options.ConcurrencyKeyLimits.TryGetValue(key, out var limit) ? limit : null
            : WorkflowLimit(ConcurrencyGates.WorkflowOf(gate));

    private int? WorkflowLimit(string? workflowName) =>
        workflowName is not null && _options.WorkflowConcurrencyLimits.TryGetValue(workflowName, out var limit) ? limit : null;

    /// <summary>Gives a slot back (or leaves the queue); a failure is logged: the gate reclaims the slot when someone waits.</summary>
    private async Task ReleaseSlotAsync(string gate, string holderId)
    {
        _gateClaims.Remove(holderId);
        try
        {
            await Gate(gate).ReleaseAsync(holderId);
        }
        catch (Exception ex)
        {
            Log.SlotReleaseFailed(_logger, ex, InstanceId, gate);
        }
    }

    /// <summary>Gives back every slot the run holds or waits for: its workflow slot and any task's, after its end is saved.</summary>
    private async Task ReleaseSlotsAsync()
    {
        var claims = _gateClaims.ToList();
        if (WorkflowLimit(_run.WorkflowName) is not null)
        {
            var holder = new GateHolder { InstanceId = InstanceId, RunId = _run.RunId };
            if (!_gateClaims.ContainsKey(holder.Id)) claims.Add(new(holder.Id, ConcurrencyGates.ForWorkflow(_run.WorkflowName!)));
        }
        foreach (var (holderId, gate) in claims) await ReleaseSlotAsync(gate, holderId);
    }

    private async Task<TaskAttemptResult> DispatchAsync(TaskNode task, byte[] input, int attempt, Guid attemptId, TaskCompletionSource processed, int epoch,
        UndoRecord? undo = null)
    {
        // An undo step has a key of its own: it never collects the task's own remote attempt, nor the reverse.
        var key = undo is null ? _progress.IdempotencyKey(task) : undo.IdempotencyKey + "/undo";
        // Cluster placement or required tags: choose the silo first (waiting for a tagged one if need be), so an attempt
        // sent elsewhere is recorded by the fence's write below (WorkflowGrain.Placement.cs).
        var placed = task.Settings.RunsAnywhere ? await PlaceAttemptAsync(task, attempt, attemptId, key, epoch) : null;
        // The fence: this activation's claim and every finished step are durable before user code starts — including
        // a write already in flight for a sibling branch.
        await _writer.EnsureDurableAsync();
        Ensure(epoch);
        if (_handingOff) throw new RunAbandonedException(null);
        _runningTasks[task.Id] = attemptId;
        if (task.Settings.Timeout is { } timeout) _taskTimeouts[task.Id] = _time.GetUtcNow() + timeout;
        _attemptsInFlight[attemptId] = processed.Task;
        TaskCompletionSource? settled = null;
        if (undo is null && task.Compensation is not null)
        {
            settled = NewSignal();
            // Its output is filled in should it complete after the run stopped.
            _undoableInFlight[attemptId] = (UndoRecordFor(task, input, []), settled);
        }
        var finished = false;
        try
        {
            Log.TaskDispatched(_logger, InstanceId, task.Id, attempt);
            // A previous owner's attempt collected from its silo was started (and recorded) by that owner.
            if (placed is not { IsReattach: true })
                Record(undo is null ? RunEventKind.TaskStarted : RunEventKind.CompensationTaskStarted, task.Id, attempt, detail: placed?.Remote?.ToString());
            var request = new TaskAttemptRequest
            {
                InstanceId = InstanceId,
                WorkflowName = _run.WorkflowName!,
                DefinitionHash = _run.DefinitionHash,
                TaskId = task.Id,
                Attempt = attempt,
                Input = input,
                AttemptId = attemptId,
                Metadata = _run.Metadata,
                TraceParent = _run.TraceParent,
                IdempotencyKey = key,
                LoopIteration = undo is null ? _progress.LoopIteration(task) : undo.LoopIteration,
                Priority = task.Settings.Priority,
                Compensate = undo is not null,
                Output = undo?.Output,
            };
            var reply = placed is null ? await RunLocallyAsync(request, epoch) : await RunPlacedAsync(task, request, placed, epoch);
            finished = true;
            if (epoch != _epoch && _sparedTasks.Contains(task.Id) && reply.Outcome == AttemptOutcome.Completed && _run.Compensating)
            {
                // It completed after the run stopped to compensate: its effect is undone with the others (saved, with
                // the remote record's removal, by the write before the next undo step).
                RecordLogs(task.Id, attempt, reply.Logs);
                Record(RunEventKind.TaskCompleted, task.Id, attempt, TimeSpan.FromMilliseconds(reply.DurationMs), detail: "after the run stopped: undone with the others");
                _run.Undo.Add(_undoableInFlight[attemptId].Record with { Output = reply.Output! });
                _run.RemoteAttempts?.Remove(task.Id);
                _writer.Changed();
                Log.LateCompletionKept(_logger, InstanceId, task.Id);
            }
            Ensure(epoch);
            if (reply.Outcome == AttemptOutcome.Abandoned) throw new RunAbandonedException(null);
            return reply;
        }
        finally
        {
            if (settled is not null)
            {
                _sparedTasks.Remove(task.Id);
                _undoableInFlight.Remove(attemptId);
                settled.TrySetResult();
            }
            if (_runningTasks.TryGetValue(task.Id, out var current) && current == attemptId)
            {
                _runningTasks.Remove(task.Id);
                _taskTimeouts.Remove(task.Id);
            }
            // An attempt whose result this run will never read must not stay in the silo's table.
            if (!finished) _attempts.Abandon(attemptId);
        }
    }

    /// <summary>Runs the attempt on this silo's task worker (no hop), polling again while it answers Pending.</summary>
    private async Task<TaskAttemptResult> RunLocallyAsync(TaskAttemptRequest request, int epoch)
    {
        var worker = _workers.Worker;
        try
        {
            var reply = await worker.ExecuteAsync(request);
            while (reply.Outcome == AttemptOutcome.Pending)
            {
                // A spared attempt is still awaited after the run stopped to compensate.
                EnsureUnlessSpared(epoch, request.TaskId);
                Log.TaskPending(_logger, InstanceId, request.TaskId, request.Attempt);
                // Stateless workers are local, so the attempt runs on this silo and any local worker can await it.
                reply = await worker.AwaitAsync(request.AttemptId);
            }
            return reply;
        }
        catch (Exception ex) when (epoch == _epoch)
        {
            // The worker call itself failed (shutdown, overload): not an attempt of the task. Park the run;
            // the recovery reminder drives it again (at-least-once).
            throw new RunAbandonedException(ex);
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
        var branch = RunProgress.BranchFor(route, key)
            ?? throw new RunFailedException(FailureFrom(route.Id, 1, new NoRouteBranchException(InstanceId, route.Id, key)));
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
                    throw new RunFailedException(FailureFrom(loop.Id, checkpoint.Iteration, new LoopLimitExceededException(InstanceId, loop.Id, loop.MaxIterations)));
                outcome = new LoopOutcome<object?>(true, null);
            }
            if (outcome.IsDone)
            {
                _run.Loops.Remove(loop.Id);
                _progress.CompleteLeaf(loop, value);
                return value;
            }
            // The next iteration's number and input are checkpointed before it starts.
            _progress.ForgetProgress(loop.Body);
            checkpoint = new LoopCheckpoint { Iteration = checkpoint.Iteration + 1, Input = value };
            _run.Loops[loop.Id] = checkpoint;
            // Saved by the write that precedes the next iteration's first dispatch or wait.
            _writer.Changed();
        }
    }

    private async Task<byte[]> ExecDelayAsync(DelayNode delay, byte[] input, int epoch)
    {
        await BoundaryAsync(epoch);
        if (!_run.Deadlines.TryGetValue(delay.Id, out var wakeAt))
        {
            wakeAt = _time.GetUtcNow() + delay.Duration;
            _run.Deadlines[delay.Id] = wakeAt;
            Record(RunEventKind.DelayStarted, delay.Id, detail: wakeAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
        }
        _waitingDelays[delay.Id] = wakeAt;
        await _writer.PersistAsync();
        Ensure(epoch);
        RegisterReminderToPark(wakeAt);
        await DelayUntilAsync(wakeAt, epoch);
        _waitingDelays.Remove(delay.Id);
        _run.Deadlines.Remove(delay.Id);
        Record(RunEventKind.DelayWoken, delay.Id);
        _progress.CompleteLeaf(delay, input);
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
            CompleteSignal(signal, buffered);
            return buffered;
        }
        DateTimeOffset? timeoutAt = null;
        if (signal.Timeout is { } timeout)
        {
            if (!_run.Deadlines.TryGetValue(signal.Id, out var at))
            {
                at = _time.GetUtcNow() + timeout;
                _run.Deadlines[signal.Id] = at;
            }
            timeoutAt = at;
        }
        var waiter = new SignalWaiter(signal, timeoutAt);
        _signalWaiters.Add(waiter);
        Record(RunEventKind.SignalAwaited, signal.Id, detail: signal.SignalName);
        await _writer.PersistAsync();
        Ensure(epoch);
        if (timeoutAt is { } deadline)
        {
            // A signal usually arrives soon after a run parks (a callback, a webhook): without a deadline nothing needs
            // waking, so the reminder comes from the RecoveryReminderDelay timer if the wait lasts, not with every park.
            RegisterReminderToPark(deadline);
            var token = _runCts.Token;
            while (!waiter.Delivered.Task.IsCompleted && _time.GetUtcNow() < deadline)
            {
                await SleepUntilAsync(deadline, waiter.Delivered.Task, token);
                Ensure(epoch);
            }
            if (!waiter.Delivered.Task.IsCompleted && _signalWaiters.Remove(waiter))
            {
                _run.Deadlines.Remove(signal.Id);
                if (!signal.HasDefault)
                    throw new RunFailedException(FailureFrom(signal.Id, 1, new SignalTimeoutException(InstanceId, signal.Id, signal.SignalName, signal.Timeout!.Value)));
                var fallback = EncodeOrFail(signal.DefaultValue, signal.PayloadType, signal.Id, $"default value of signal '{signal.SignalName}'");
                CompleteSignal(signal, fallback);
                return fallback;
            }
        }
        // Delivered by SignalAsync, which already recorded the payload as this node's output.
        var payload = await waiter.Delivered.Task;
        Ensure(epoch);
        return payload;
    }

    /// <summary>A signal's payload is a result like a task's: archived with its event, so it stays readable once released.</summary>
    private void CompleteSignal(SignalNode signal, byte[] payload)
    {
        _writer.Record(new RunHistoryEvent { At = _time.GetUtcNow(), Kind = RunEventKind.SignalConsumed, TaskId = signal.Id, Detail = signal.SignalName });
        _progress.CompleteLeaf(signal, payload);
    }


    private async Task BoundaryAsync(int epoch)
    {
        // A task that finished as the run was paused is checkpointed now, not when the run is unpaused: a crash or
        // shutdown during a long pause must not re-run it.
        if (_run.Pause is not null && _writer.HasUnsavedChanges)
        {
            await _writer.EnsureDurableAsync();
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
        while (_time.GetUtcNow() < at)
        {
            await SleepUntilAsync(at, null, token);
            Ensure(epoch);
        }
        Ensure(epoch);
    }

    /// <summary>
    /// One timer's worth of waiting for <paramref name="at"/> on the engine's clock, or until <paramref name="other"/>
    /// completes; a cancelled <paramref name="token"/> throws unless <paramref name="other"/> is given. Callers read
    /// the clock again after it. An early wake-up (a reminder tick, a wall-clock timer) never ends a wait by itself.
    /// </summary>
    private async Task SleepUntilAsync(DateTimeOffset at, Task? other, CancellationToken token)
    {
        var now = _time.GetUtcNow();
        if (now >= at) return;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(token);
        var elapsed = Task.Delay(Clamp(at - now), _time, timer.Token);
        // A clock that jumped between the read and the arming (a test advancing a fake clock) would leave the timer
        // due late: then the caller reads the clock again instead. A real clock moves far less than this between two reads.
        try
        {
            if (_time.GetUtcNow() - now <= TimeSpan.FromMilliseconds(1)) await (other is null ? elapsed : Task.WhenAny(elapsed, other));
        }
        finally
        {
            // Releases the timer when it was not the one to end the wait.
            await timer.CancelAsync();
        }
    }

    // Task.Delay takes at most ~24.8 days; longer waits go round again.
    private static TimeSpan Clamp(TimeSpan wait) =>
        wait > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;

    private void Ensure(int epoch)
    {
        if (epoch != _epoch) throw new RunInterruptedException();
    }

    // The wait for an attempt's answer goes on after the run stopped when the run compensates and awaits that attempt.
    private void EnsureUnlessSpared(int epoch, string taskId)
    {
        if (!_sparedTasks.Contains(taskId)) Ensure(epoch);
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

    // ----- reminders ------------------------------------------------------------------------------------------

    /// <summary>
    /// Registers the recovery reminder before a start or resume is written. A freshly started silo's reminder service
    /// can take tens of seconds to initialize (each call then blocks ~20 s and fails): the caller waits at most
    /// <see cref="ReminderWait"/>, then the run is written anyway and registration goes on in the background while the
    /// run is driven here. Until it lands, a silo death still finds the run: the recovery watcher also wakes the active
    /// runs it lists from storage.
    /// </summary>
    private async Task RegisterReminderAsync(TimeSpan? wait = null)
    {
        var registering = _registering is { IsCompleted: false } pending ? pending : _registering = RegisterReminderWithRetryAsync();
        try
        {
            await registering.WaitAsync(wait ?? ReminderWait, TimeProvider.System); // wall clock: bounded by Orleans' real call timeout
        }
        catch (TimeoutException)
        {
            Log.ReminderDeferred(_logger, InstanceId, wait ?? ReminderWait);
        }
    }

    private static readonly TimeSpan HandoffReminderWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Registers the recovery reminder once the run has driven <see cref="SayiirOptions.RecoveryReminderDelay"/> here (a
    /// one-shot grain timer): short runs write no reminder row at all. Until then the recovery watcher's listing of
    /// active runs covers a silo death and a whole-cluster restart.
    /// </summary>
    private void ArmRecoveryReminder()
    {
        if (_reminder is not null || _reminderTimer is not null) return;
        _reminderTimer = this.RegisterGrainTimer(() =>
        {
            DisarmReminderTimer();
            return _run.IsActive && !_writer.Lost && _reminder is null ? RegisterReminderAsync() : Task.CompletedTask;
        }, new GrainTimerCreationOptions { DueTime = ReminderDelay, Period = Timeout.InfiniteTimeSpan, Interleave = true });
    }

    /// <summary>
    /// A run parking on a wait that lasts at least <see cref="SayiirOptions.RecoveryReminderDelay"/> (a delay, a signal
    /// wait, a retry backoff; <paramref name="until"/> null: no end) registers its reminder as it parks, rather than when
    /// the delay's timer fires — which could be the very moment it wakes, adding a reminder write to every wake-up. In
    /// the background: a busy reminder service must not make the wait itself start late.
    /// </summary>
    private void RegisterReminderToPark(DateTimeOffset? until)
    {
        if (_reminder is not null || _registering is { IsCompleted: false } || ReminderDelay == TimeSpan.Zero) return;
        if (until is { } at && at - _time.GetUtcNow() < ReminderDelay) return;
        DisarmReminderTimer();
        _ = RegisterReminderInBackgroundAsync();
    }

    private void DisarmReminderTimer()
    {
        _reminderTimer?.Dispose();
        _reminderTimer = null;
    }

    private async Task RegisterReminderInBackgroundAsync()
    {
        try
        {
            await RegisterReminderAsync();
        }
        catch (Exception ex)
        {
            // Only once this activation lost the run (a registration is retried until then): nothing to wake here any more.
            Log.ReminderFailed(_logger, ex, InstanceId);
        }
    }

    // Without the watcher nothing finds a run without a reminder when its silo dies: every run registers one at start.
    private TimeSpan ReminderDelay => _options.WakeRunsOnSiloDeath ? _options.RecoveryReminderDelay : TimeSpan.Zero;

    private async Task RegisterReminderWithRetryAsync()
    {
        _reminderMayExist = true;
        var period = _options.RecoveryReminderPeriod;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _reminder = await this.RegisterOrUpdateReminder(ReminderName, period, period);
                return;
            }
            catch (Exception ex) when (!_writer.Lost)
            {
                // A storage blip or a reminder service still initializing: registering again is harmless.
                var delay = TimeSpan.FromMilliseconds(Math.Min(100 * Math.Pow(2, attempt - 1), _options.MaxStorageRetryDelay.TotalMilliseconds));
                Log.ReminderFailed(_logger, ex, InstanceId);
                await Task.Delay(delay, TimeProvider.System); // wall clock: a reminder-service blip heals in real time
            }
        }
    }

    // Under Orleans' default 30 s call timeout, with room for the state write after it.
    private static readonly TimeSpan ReminderWait = TimeSpan.FromSeconds(15);

    private async Task UnregisterReminderAsync()
    {
        try
        {
            // The handle from registration saves a reminder-table read; after a re-activation it is looked up; a run that
            // never registered one here and had no stored row before has none.
            if (_reminder is null && !_reminderMayExist) return;
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
        if (_run.Compensating) return WorkflowState.Compensating;
        if (_runningTasks.Count > 0) return WorkflowState.Running;
        if (_waitingDelays.Count > 0) return WorkflowState.Waiting;
        if (_signalWaiters.Count > 0) return WorkflowState.AwaitingSignal;
        if (_gateWaits.Values.Any(w => w.Queued)) return WorkflowState.Queued;
        // A queued run driving again (after a restart) stays Queued until its gate answers.
        return _driving ? (_run.QueuedFor is null ? WorkflowState.Running : WorkflowState.Queued) : _run.Status;
    }

    /// <summary>The concurrency key a queued run waits for (null when it waits for its workflow's limit).</summary>
    private string? QueuedKey()
    {
        var gate = _gateWaits.Values.FirstOrDefault(w => w.Queued)?.Gate ?? _run.QueuedFor;
        return gate is null ? null : ConcurrencyGates.KeyOf(gate);
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
            WorkflowVersion = _run.WorkflowVersion,
            ConcurrencyKey = state == WorkflowState.Queued ? QueuedKey() : null,
            CurrentTaskId = RunningTaskIds(),
            WakeAt = state == WorkflowState.Waiting ? wakeAt : null,
            SignalName = signalWaiter?.SignalName,
            SignalTimeoutAt = signalWaiter?.TimeoutAt,
            TaskTimeoutAt = state == WorkflowState.Running && _taskTimeouts.Count > 0 ? _taskTimeouts.Values.Min() : null,
            AwaitingSiloTags = _awaitingSilo.Count > 0 ? string.Join(";", _awaitingSilo.Values.Distinct()) : null,
            Pause = _run.Pause,
            Failure = _run.Failure,
            Cancellation = _run.Cancellation,
            CreatedAt = _run.CreatedAt,
            UpdatedAt = _run.UpdatedAt,
            OutputPayload = state == WorkflowState.Completed ? _run.Output : null,
            CompensationFailures = _run.UndoFailed.Count == 0 ? null : [.. _run.UndoFailed.Select(r => r.Failure!)],
        };
    }

    private void Record(RunEventKind kind, string? taskId = null, int? attempt = null, TimeSpan? duration = null, string? detail = null,
        string? errorType = null, string? message = null) =>
        _writer.Record(new RunHistoryEvent
        {
            At = _time.GetUtcNow(),
            Kind = kind,
            TaskId = taskId,
            Attempt = attempt,
            Duration = duration,
            Detail = detail,
            ErrorType = errorType,
            Message = message,
        });

    private void RecordLogs(string taskId, int attempt, TaskLogLine[]? lines)
    {
        if (lines is null) return;
        foreach (var line in lines)
        {
            _writer.Record(new RunHistoryEvent
            {
                At = line.At,
                Kind = RunEventKind.TaskLog,
                TaskId = taskId,
                Attempt = attempt,
                Detail = line.Message,
                ErrorType = line.LevelName,
                Message = line.Exception,
            });
        }
    }

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

    private TaskFailure FailureFrom(string taskId, int attempt, Exception error) =>
        TaskFailure.FromException(taskId, attempt, error, _time.GetUtcNow());

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A drive-loop wait at a concurrency gate; <see cref="Poke"/> makes it ask the gate again.</summary>
    private sealed class GateWait(string gate, GateHolder holder)
    {
        private TaskCompletionSource _poked = NewSignal();

        public string Gate { get; } = gate;

        public GateHolder Holder { get; } = holder;

        /// <summary>Refused at least once (the run shows Queued).</summary>
        public bool Queued { get; set; }

        /// <summary>A fresh signal, before each ask: a poke during the ask is not lost.</summary>
        public Task Reset()
        {
            if (_poked.Task.IsCompleted) _poked = NewSignal();
            return _poked.Task;
        }

        public void Poke() => _poked.TrySetResult();
    }

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

/// <summary>A task attempt was taken away (shutdown, hand-off, unreachable worker): the loop parks without recording a failure.</summary>
internal sealed class RunAbandonedException(Exception? cause) : Exception("The task attempt was abandoned.", cause);

/// <summary>The run fails with these details.</summary>
internal sealed class RunFailedException(TaskFailure failure) : Exception(failure.Message)
{
    public TaskFailure Failure { get; } = failure;
}
