using Orleans.Concurrency;

namespace Sayiir.Runtime;

/// <summary>One run of a workflow: its cursor, needed outputs, retry state and status. Keyed by instance id.</summary>
[Alias("sayiir.IWorkflowGrain")]
internal interface IWorkflowGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task<WorkflowStatus> StartAsync(StartRequest request);

    // Read-only snapshots interleave with everything: they never wait behind a running task.
    [AlwaysInterleave, Alias("GetStatus")]
    Task<WorkflowStatus> GetStatusAsync();

    // A long poll: returns when the run ends or after maxWait, whichever comes first (never one long call).
    [AlwaysInterleave, Alias("Wait")]
    Task<WorkflowStatus> WaitAsync(TimeSpan maxWait);

    // Throws WorkflowRunNotFoundException or TaskResultNotFoundException when there is no output to return.
    [AlwaysInterleave, Alias("GetTaskResult")]
    Task<TaskResultReply> GetTaskResultAsync(string taskId);

    [Alias("Resume")]
    Task<WorkflowStatus> ResumeAsync();

    [Alias("Cancel")]
    Task<WorkflowStatus> CancelAsync(string? reason, string? by);

    /// <summary>Cancels the run and undoes its completed compensable tasks (a separate method: silos of the previous version keep theirs).</summary>
    Task<WorkflowStatus> CancelAndCompensateAsync(string? reason, string? by);

    [Alias("Pause")]
    Task<WorkflowStatus> PauseAsync(string? reason, string? by);

    [Alias("Unpause")]
    Task<WorkflowStatus> UnpauseAsync();

    [Alias("Signal")]
    Task SignalAsync(string signalName, byte[] payload);

    [Alias("Upgrade")]
    Task<WorkflowStatus> UpgradeAsync(string? toVersion);

    // Removes an ended run (state, history, listing) when it ended before endedBefore (any time when null); false
    // when the run is active, already gone, or ended later.
    [Alias("Purge")]
    Task<bool> PurgeAsync(DateTimeOffset? endedBefore);

    // Reads the run's history through its own silo, which flushes the events it buffered first.
    [AlwaysInterleave, Alias("GetHistory")]
    Task<List<RunHistoryEvent>> GetHistoryAsync();

    // Activates the run (wherever placement puts it) so an interrupted run continues; no-op when it is driving.
    [AlwaysInterleave, Alias("Wake")]
    Task WakeAsync();

    // Continues an ended or paused run from just before a step it completed; that step and the later ones run again.
    [Alias("Rewind")]
    Task<WorkflowStatus> RewindAsync(string beforeStep, string? reason, string? by);

    // A concurrency gate promoted this holder: the run's loop asks the gate again (a run that no longer wants the
    // slot gives it back). Interleaved: the gate never waits behind a request of the run.
    [AlwaysInterleave, Alias("SlotGranted")]
    Task SlotGrantedAsync(string gate, GateHolder holder);

    // Whether this run still holds (or is acquiring) the gate's slot for this holder; Released frees the slot.
    [AlwaysInterleave, Alias("HoldsSlot")]
    Task<SlotClaim> HoldsSlotAsync(string gate, GateHolder holder);
}

/// <summary>Answers run listings from any silo.</summary>
[Alias("sayiir.IRunQueryGrain")]
internal interface IRunQueryGrain : IGrainWithIntegerKey
{
    [Alias("List")]
    Task<RunPage> ListAsync(RunQuery query);

    [Alias("Count")]
    Task<RunCounts> CountAsync(RunQuery query);

    [Alias("Activity")]
    Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query);

    [Alias("Versions")]
    Task<List<WorkflowVersionInfo>> VersionsAsync(string? workflowName);

    [Alias("Graph")]
    Task<WorkflowGraph> GraphAsync(string workflowName, string? version);

    // One step of an explicit purge: the ended runs of one listing page; the page's continuation token.
    [Alias("PurgePage")]
    Task<PurgeStep> PurgePageAsync(RunQuery query);
}

[GenerateSerializer, Alias("sayiir.PurgeStep"), Immutable]
internal sealed record PurgeStep([property: Id(0)] long Purged, [property: Id(1)] string? ContinuationToken);

/// <summary>Runs task attempts. Stateless workers activate on the caller's silo, so a task runs beside its run.</summary>
[Alias("sayiir.ITaskWorkerGrain")]
internal interface ITaskWorkerGrain : IGrainWithIntegerKey
{
    // Starts an attempt and waits for it up to the inline window: its result, or Pending.
    [Alias("Execute")]
    Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request);

    // Waits again (up to the inline window) for an attempt that answered Pending; Abandoned if this silo has no such attempt.
    [Alias("Await")]
    Task<TaskAttemptResult> AwaitAsync(Guid attemptId);
}

[GenerateSerializer, Alias("sayiir.StartRequest"), Immutable]
internal sealed record StartRequest
{
    [Id(0)] public required string WorkflowName { get; init; }

    // Hash of the caller's definition, when it has one; null for by-name starts.
    [Id(1)] public string? DefinitionHash { get; init; }

    [Id(2)] public required byte[] Input { get; init; }

    [Id(3)] public ConflictPolicy OnConflict { get; init; }

    [Id(4)] public Dictionary<string, string>? Metadata { get; init; }

    // The caller's W3C trace parent, so the run's trace continues the caller's.
    [Id(5)] public string? TraceParent { get; init; }

    // For by-name starts: the version to run (null: the latest registered).
    [Id(6)] public string? Version { get; init; }
}

// A task's recorded output. No output (or no run) is answered with a typed exception instead.
[GenerateSerializer, Alias("sayiir.TaskResultReply"), Immutable]
internal sealed record TaskResultReply([property: Id(1)] byte[] Payload);

[GenerateSerializer, Alias("sayiir.TaskAttemptRequest"), Immutable]
internal sealed record TaskAttemptRequest
{
    [Id(0)] public required string InstanceId { get; init; }

    [Id(1)] public required string WorkflowName { get; init; }

    [Id(2)] public required string TaskId { get; init; }

    [Id(3)] public required int Attempt { get; init; }

    [Id(4)] public required byte[] Input { get; init; }

    [Id(5)] public required Guid AttemptId { get; init; }

    [Id(6)] public Dictionary<string, string>? Metadata { get; init; }

    // The run's W3C trace parent: every attempt's span joins the run's trace.
    [Id(7)] public string? TraceParent { get; init; }

    // Stable across retries and re-executions of one logical step; distinct per loop iteration and per run.
    [Id(8)] public string IdempotencyKey { get; init; } = "";

    // The innermost enclosing loop's iteration (1-based), or null outside loops.
    [Id(9)] public int? LoopIteration { get; init; }

    // The definition the run runs on, so the attempt runs that version's task (null from silos of earlier versions).
    [Id(10)] public string? DefinitionHash { get; init; }

    // The task's priority (1 first) on a saturated silo.
    [Id(11)] public int Priority { get; init; } = TaskOptions.DefaultPriority;

    // The task's undo step rather than the task: Input and Output are what the completed execution received and returned.
    [Id(20)] public bool Compensate { get; init; }

    [Id(21)] public byte[]? Output { get; init; }
}

internal enum AttemptOutcome
{
    Completed = 0,
    Failed = 1,
    Pending = 2,

    // Stopped by silo shutdown or by the run itself: not an attempt of the task, nothing to record.
    Abandoned = 3,
}

[GenerateSerializer, Alias("sayiir.TaskAttemptResult"), Immutable]
internal sealed record TaskAttemptResult
{
    public static TaskAttemptResult Pending { get; } = new() { Outcome = AttemptOutcome.Pending };

    public static TaskAttemptResult Abandoned { get; } = new() { Outcome = AttemptOutcome.Abandoned };

    [Id(0)] public required AttemptOutcome Outcome { get; init; }

    [Id(1)] public byte[]? Output { get; init; }

    [Id(2)] public TaskFailure? Failure { get; init; }

    [Id(3)] public bool Retryable { get; init; }

    [Id(4)] public double DurationMs { get; init; }

    // What the attempt wrote through TaskContext.Logger, bounded (null: nothing).
    [Id(5)] public TaskLogLine[]? Logs { get; init; }

    // Attempts running or waiting on the answering silo when it answered: cluster placement's view of its load.
    [Id(6)] public int SiloLoad { get; init; }
}

/// <summary>
/// Runs attempts sent by the runs of other silos (cluster placement, required tags). Keyed by the silo's parsable
/// address and placed on that silo, so an attempt's id finds it again, and a dead silo is never silently replaced by a
/// fresh activation elsewhere (placement refuses it). Finished attempts are kept until their run has saved the result.
/// </summary>
[Alias("sayiir.IAttemptHostGrain")]
internal interface IAttemptHostGrain : IGrainWithStringKey
{
    // Starts the attempt (once per attempt id: a resent request joins it) and waits up to the inline window.
    [Alias("Execute")]
    Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request);

    // Waits again for an attempt; Abandoned when this silo does not know it (never started here, or forgotten).
    [Alias("Await")]
    Task<TaskAttemptResult> AwaitAsync(Guid attemptId);

    // The run has saved the attempt's result: drop it.
    [OneWay, Alias("Forget")]
    Task ForgetAsync(Guid attemptId);

    // The run no longer wants the attempt (cancelled, failed elsewhere): its token fires.
    [OneWay, Alias("Abandon")]
    Task AbandonAsync(Guid attemptId);

    // What the silo offers: its tags and capacity.
    [AlwaysInterleave, Alias("Describe")]
    Task<SiloProfile> DescribeAsync();
}

[GenerateSerializer, Alias("sayiir.SiloProfile"), Immutable]
internal sealed record SiloProfile([property: Id(0)] string[] Tags, [property: Id(1)] int Capacity, [property: Id(2)] int Busy);

/// <summary>An attempt in flight on another silo, saved with the run so a new owner of the run asks that silo for it.</summary>
[GenerateSerializer, Alias("sayiir.RemoteAttempt"), Immutable]
internal sealed record RemoteAttempt
{
    [Id(0)] public required Guid AttemptId { get; init; }

    // The parsable address of the silo running it.
    [Id(1)] public required string Silo { get; init; }

    [Id(2)] public required int Attempt { get; init; }

    // The logical step it runs (a loop iteration or a rewind changes it).
    [Id(3)] public required string IdempotencyKey { get; init; }
}
