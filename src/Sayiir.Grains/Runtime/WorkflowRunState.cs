using System.Text.Json.Serialization;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>
/// The persisted state of one run: what its continuation needs, nothing more. Rewritten whole on every write,
/// so it holds outputs, not a history. Public settable members keep it readable by the System.Text.Json
/// grain-storage serializer as well as Orleans' own.
/// </summary>
[GenerateSerializer, Alias("sayiir.WorkflowRunState")]
internal sealed class WorkflowRunState
{
    // The stored names of the listed fields and of Input are RunStateStorage's (PostgreSQL's listing trigger reads
    // them). Order is for speed only: the listed fields come first, followed by Input, so the trigger parses that short
    // prefix instead of the whole state (which may hold large outputs) on every checkpoint; in any other order it
    // parses the whole state, and lists the same values.
    [Id(0), JsonPropertyOrder(-5), JsonPropertyName(RunStateStorage.WorkflowNameProperty)] public string? WorkflowName { get; set; }

    [Id(1), JsonPropertyOrder(-4), JsonPropertyName(RunStateStorage.DefinitionHashProperty)] public string? DefinitionHash { get; set; }

    // Listed too (after WorkflowName, before Input); not written when null (an unversioned workflow).
    [Id(24), JsonPropertyOrder(-4), JsonPropertyName(RunStateStorage.WorkflowVersionProperty)] public string? WorkflowVersion { get; set; }

    [Id(2), JsonPropertyOrder(-3), JsonPropertyName(RunStateStorage.StatusProperty)] public WorkflowState Status { get; set; }

    [Id(3), JsonPropertyName(RunStateStorage.InputProperty)] public byte[]? Input { get; set; }

    [Id(4)] public byte[]? Output { get; set; }

    // Outputs still needed by a later step (or not yet archived), by node id; route keys are kept for good.
    [Id(5)] public Dictionary<string, byte[]> Outputs { get; set; } = [];

    // Tasks between attempts: the next attempt number and its durable due instant.
    [Id(6)] public Dictionary<string, RetryCheckpoint> Retries { get; set; } = [];

    // Loops in progress: the current iteration and its input.
    [Id(7)] public Dictionary<string, LoopCheckpoint> Loops { get; set; } = [];

    // Absolute instants: delay wake-ups and signal timeouts, by node id.
    [Id(8)] public Dictionary<string, DateTimeOffset> Deadlines { get; set; } = [];

    // Signals received but not yet consumed, FIFO per name.
    [Id(9)] public Dictionary<string, List<byte[]>> Signals { get; set; } = [];

    [Id(10)] public TaskFailure? Failure { get; set; }

    [Id(11)] public CancellationInfo? Cancellation { get; set; }

    [Id(12)] public PauseInfo? Pause { get; set; }

    [Id(13)] public Dictionary<string, string> Metadata { get; set; } = [];

    [Id(14), JsonPropertyOrder(-2), JsonPropertyName(RunStateStorage.CreatedAtProperty)] public DateTimeOffset? CreatedAt { get; set; }

    [Id(15), JsonPropertyOrder(-1), JsonPropertyName(RunStateStorage.UpdatedAtProperty)] public DateTimeOffset? UpdatedAt { get; set; }

    // A fresh value per write: after an ambiguous write failure it tells whether the write landed.
    [Id(16)] public Guid WriteToken { get; set; }

    // Id 17 held InterruptedTaskId, never read (the cancellation record keeps it): keep it unused. States stored
    // with it still load (System.Text.Json and Orleans both skip unknown members).

    // The run span's W3C context: attempts, retries and resumes after a crash all join this one trace.
    [Id(18)] public string? TraceParent { get; set; }

    // Ids of finished leaf nodes (tasks, delays, signals, loops, joins) of the top-level steps from DoneThrough on: what a
    // resume skips. Steps before DoneThrough are finished as a whole and named by the cursor alone, so the set does not
    // grow with the run's length.
    [Id(19)] public HashSet<string> Done { get; set; } = [];

    // How many leading top-level steps of the run's definition are finished and left Done (see RunProgress.AdvanceCursor:
    // the latest finished step keeps its ids, so a version without the cursor still resumes after it). 0 in states
    // written before the cursor existed: their Done holds every finished id, and is compacted when the run is next driven.
    [Id(31), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int DoneThrough { get; set; }

    // The activation that drives the run (a lease proven by this row's ETag); null when no one does. A new activation
    // claims it only once the recorded owner can no longer start or finish a task (see RunOwnership).
    [Id(20)] public RunOwner? Owner { get; set; }

    // Sequence number of the next history event; events are numbered per run so re-delivery is idempotent.
    [Id(21)] public long NextEventSeq { get; set; } = 1;

    // History events saved with this state but not yet confirmed in the history store (an outbox): they become durable
    // in the same write as the change they record, and are re-delivered after a crash.
    [Id(22)] public List<PendingEvent> PendingEvents { get; set; } = [];

    // Distinguishes this run from an earlier run of the same instance id (TerminateExisting): part of idempotency keys.
    [Id(23)] public Guid RunId { get; set; }

    // For each node a rewind superseded: the sequence number of the latest such Rewound event. It makes the node's
    // re-run a new logical execution (its idempotency key changes) and hides its superseded output still in the outbox.
    [Id(25)] public Dictionary<string, long> Rewound { get; set; } = [];

    // The concurrency gate (ConcurrencyGates key) the run is queued at while it is stored as Queued: a queued run is
    // recovered from storage alone (its loop asks that gate again); null when it is not queued.
    [Id(26)] public string? QueuedFor { get; set; }

    // Completed executions of compensable tasks not yet undone, in completion order (each with what its undo needs):
    // saved by the write that saves the completion; while compensating, the last one is undone next and leaves the list
    // once its undo step is saved. Kept when the run completes: a rewind of a completed run may still fail and compensate.
    [Id(27)] public List<UndoRecord> Undo { get; set; } = [];

    // True from the write that starts compensating until the run ends: the drive loop undoes instead of running steps.
    [Id(28)] public bool Compensating { get; set; }

    // Undo steps that exhausted their retries (with their last failure), in the order they ran; a resume runs them again.
    [Id(29)] public List<UndoRecord> UndoFailed { get; set; } = [];

    // Task attempts in flight on other silos, by task id: saved before the attempt is sent, removed by the write that
    // saves its result, so a run recovered elsewhere collects a finished remote attempt instead of running it again. Null
    // when there is none, and then not written: runs that never place a task elsewhere store nothing more.
    [Id(30), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, RemoteAttempt>? RemoteAttempts { get; set; }

    // Not stored: set by a storage that wrote this state's outbox into the history in the state write's own
    // transaction (PostgreSQL's group commit), so the writer treats those events as confirmed without a journal write.
    [JsonIgnore, NonSerialized]
    public bool HistorySaved;

    /// <summary>
    /// The outbox events as the history stores them: an output still in the state is archived with its event from
    /// there (a state does not hold it twice). Only events after sequence <paramref name="after"/>.
    /// </summary>
    public List<PendingEvent> EventsForHistory(long after = 0) => PendingEvents.Where(e => e.Seq > after)
        .Select(e => e.Output is null && e.ArchivesOutput && Outputs.TryGetValue(e.Event.TaskId!, out var output) ? e with { Output = output } : e)
        .ToList();

    [JsonIgnore]
    public bool Exists => Status != WorkflowState.NotFound;

    [JsonIgnore]
    public bool IsTerminal => Status is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled or WorkflowState.Compensated;

    [JsonIgnore]
    public bool IsActive => Exists && !IsTerminal;

    /// <summary>A copy handed to storage, so a write in flight never observes later mutations. Payload arrays are never mutated, so they are shared.</summary>
    public WorkflowRunState Snapshot() => new()
    {
        WorkflowName = WorkflowName,
        WorkflowVersion = WorkflowVersion,
        DefinitionHash = DefinitionHash,
        Status = Status,
        Input = Input,
        Output = Output,
        Outputs = new(Outputs),
        Retries = new(Retries),
        Loops = new(Loops),
        Deadlines = new(Deadlines),
        Signals = Signals.ToDictionary(s => s.Key, s => new List<byte[]>(s.Value)),
        Failure = Failure,
        Cancellation = Cancellation,
        Pause = Pause,
        Metadata = Metadata,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        WriteToken = WriteToken,
        TraceParent = TraceParent,
        Done = new(Done),
        DoneThrough = DoneThrough,
        Owner = Owner,
        NextEventSeq = NextEventSeq,
        PendingEvents = new(PendingEvents),
        RunId = RunId,
        Rewound = new(Rewound),
        QueuedFor = QueuedFor,
        Undo = new(Undo),
        Compensating = Compensating,
        UndoFailed = new(UndoFailed),
        RemoteAttempts = RemoteAttempts is { Count: > 0 } remote ? new(remote) : null,
    };
}

[GenerateSerializer, Alias("sayiir.RetryCheckpoint"), Immutable]
internal sealed record RetryCheckpoint
{
    [Id(0)] public int NextAttempt { get; init; }

    [Id(1)] public DateTimeOffset NextAttemptAt { get; init; }

    // Id 2 held LastFailure, never read (the failure is in the history): keep it unused; stored states with it still load.
}

[GenerateSerializer, Alias("sayiir.LoopCheckpoint"), Immutable]
internal sealed record LoopCheckpoint
{
    [Id(0)] public int Iteration { get; init; }

    [Id(1)] public byte[]? Input { get; init; }
}

/// <summary>Who drives a run: a silo (its parsable address) and one activation on it.</summary>
[GenerateSerializer, Alias("sayiir.RunOwner"), Immutable]
internal sealed record RunOwner
{
    [Id(0)] public required string Silo { get; init; }

    [Id(1)] public required Guid Activation { get; init; }

    [Id(2)] public DateTimeOffset Since { get; init; }
}

/// <summary>A history event saved in the run's state until the history store confirms it (with the output it archives).</summary>
[GenerateSerializer, Alias("sayiir.PendingEvent"), Immutable]
internal sealed record PendingEvent
{
    [Id(0)] public required long Seq { get; init; }

    [Id(1)] public required RunHistoryEvent Event { get; init; }

    [Id(2)] public byte[]? Output { get; init; }

    /// <summary>The history archives the output of this event's task (task-completed and signal-consumed events).</summary>
    [JsonIgnore]
    public bool ArchivesOutput => Event.Kind is RunEventKind.TaskCompleted or RunEventKind.SignalConsumed && Event.TaskId is not null;
}

/// <summary>One completed execution of a compensable task, with what its undo step needs; its retry state while undoing.</summary>
[GenerateSerializer, Alias("sayiir.UndoRecord"), Immutable]
internal sealed record UndoRecord
{
    [Id(0)] public required string TaskId { get; init; }

    [Id(1)] public required byte[] Input { get; init; }

    [Id(2)] public required byte[] Output { get; init; }

    // The execution's idempotency key; the undo step's is this with "/undo" appended.
    [Id(3)] public required string IdempotencyKey { get; init; }

    [Id(4)] public int? LoopIteration { get; init; }

    // The undo step's next attempt and, after a failed one, its durable due instant.
    [Id(5)] public int NextAttempt { get; init; } = 1;

    [Id(6)] public DateTimeOffset? NextAttemptAt { get; init; }

    // Its last failure, once it failed for good (in UndoFailed).
    [Id(7)] public TaskFailure? Failure { get; init; }
}
