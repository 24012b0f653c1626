namespace Sayiir;

/// <summary>What happened in a run, in order.</summary>
public enum RunEventKind
{
    /// <summary>The run was started.</summary>
    RunStarted = 0,

    /// <summary>A task attempt was dispatched. Detail: the silo it was sent to, when not the run's own.</summary>
    TaskStarted = 1,

    /// <summary>A task attempt completed and its output was checkpointed.</summary>
    TaskCompleted = 2,

    /// <summary>A task attempt failed (see error type and message).</summary>
    TaskFailed = 3,

    /// <summary>A retry was scheduled (detail: the next attempt's instant).</summary>
    RetryScheduled = 4,

    /// <summary>The run parked on a delay (detail: the wake instant).</summary>
    DelayStarted = 5,

    /// <summary>A delay elapsed.</summary>
    DelayWoken = 6,

    /// <summary>A signal was received (detail: its name).</summary>
    SignalReceived = 7,

    /// <summary>The run was paused.</summary>
    Paused = 8,

    /// <summary>The run was unpaused.</summary>
    Unpaused = 9,

    /// <summary>The run was cancelled.</summary>
    Cancelled = 10,

    /// <summary>The run completed.</summary>
    Completed = 11,

    /// <summary>The run failed.</summary>
    Failed = 12,

    /// <summary>A failed run was resumed from its last checkpoint.</summary>
    Resumed = 13,

    /// <summary>An interrupted run was picked up again by a (new) activation.</summary>
    Recovered = 14,

    /// <summary>The run parked waiting for a signal (detail: its name).</summary>
    SignalAwaited = 15,

    /// <summary>A wait consumed a signal (task id: the wait node; detail: the signal name).</summary>
    SignalConsumed = 16,

    /// <summary>
    /// The run was rewound to just before a step (<see cref="ISayiirClient.RewindAsync"/>; task id: that step). The
    /// detail's first line is a JSON array of the ids of the superseded nodes (the step and every node after it); if a
    /// reason or an actor was given, a second line says <c>by: reason</c>. Earlier events of those nodes are marked
    /// <see cref="RunHistoryEvent.Superseded"/>.
    /// </summary>
    Rewound = 17,

    /// <summary>The run was moved onto another version of its workflow (detail: from and to, version and hash).</summary>
    Upgraded = 18,

    /// <summary>
    /// A line a task attempt wrote through <see cref="TaskContext.Logger"/> (task id and attempt: that attempt;
    /// <see cref="RunHistoryEvent.At"/>: when it was written, on the engine's clock; <see cref="RunHistoryEvent.Detail"/>:
    /// the formatted message; <see cref="RunHistoryEvent.ErrorType"/>: the level's name, <c>Information</c>,
    /// <c>Warning</c>, <c>Error</c>…; <see cref="RunHistoryEvent.Message"/>: <c>type: message</c> of the exception
    /// logged with it, if any). An attempt's lines are saved with its outcome, just before its
    /// <see cref="TaskCompleted"/> or <see cref="TaskFailed"/> event; past the per-attempt bound a last line says how
    /// many were dropped. An attempt that never reported back (its silo died, the run was cancelled while it ran, or it
    /// outlived a hand-off window) leaves no lines.
    /// </summary>
    TaskLog = 19,

    /// <summary>
    /// The run waits for a concurrency slot (state <see cref="WorkflowState.Queued"/>). Detail: <c>workflow</c> when its
    /// workflow is at its limit of active runs, or the awaited <see cref="TaskOptions.ConcurrencyKey"/> (task id: the task
    /// that waits for it).
    /// </summary>
    Queued = 20,

    /// <summary>A queued run (or task) got its concurrency slot and goes on; detail and task id as for <see cref="Queued"/>.</summary>
    Dequeued = 21,

    /// <summary>
    /// The run starts undoing its completed compensable tasks (state <see cref="WorkflowState.Compensating"/>). Task id,
    /// error type and message: the failure that caused it; or detail <c>cancelled</c> (and <c>by: reason</c>) for a
    /// cancel with compensation; or detail <c>resumed</c> when a resume runs failed undo steps again.
    /// </summary>
    CompensationStarted = 22,

    /// <summary>An attempt of a task's undo step was dispatched (task id: the task; attempt: the undo's attempt).</summary>
    CompensationTaskStarted = 23,

    /// <summary>A task's undo step completed and was checkpointed: it does not run again.</summary>
    CompensationTaskCompleted = 24,

    /// <summary>An attempt of a task's undo step failed (error type and message); retried per its policy, else reported.</summary>
    CompensationTaskFailed = 25,

    /// <summary>Every undo step completed: the run ended <see cref="WorkflowState.Compensated"/>.</summary>
    Compensated = 26,

    /// <summary>
    /// The silo running a task attempt on behalf of the run was lost (declared dead, or stopped before the attempt
    /// finished), or no longer knows the attempt: it is dispatched again, with the same attempt number. Detail: that
    /// silo's address.
    /// </summary>
    TaskSiloLost = 28,
}

/// <summary>One entry of a run's durable history.</summary>
[GenerateSerializer, Alias("sayiir.RunHistoryEvent"), Immutable]
public sealed record RunHistoryEvent
{
    /// <summary>When it happened.</summary>
    [Id(0)] public required DateTimeOffset At { get; init; }

    /// <summary>What happened.</summary>
    [Id(1)] public required RunEventKind Kind { get; init; }

    /// <summary>The task or node concerned, if any.</summary>
    [Id(2)] public string? TaskId { get; init; }

    /// <summary>The attempt number, for task events.</summary>
    [Id(3)] public int? Attempt { get; init; }

    /// <summary>How long the attempt took, for completed and failed attempts.</summary>
    [Id(4)] public TimeSpan? Duration { get; init; }

    /// <summary>Extra detail: a wake or retry instant, a signal name, a reason.</summary>
    [Id(5)] public string? Detail { get; init; }

    /// <summary>The error type, for failures.</summary>
    [Id(6)] public string? ErrorType { get; init; }

    /// <summary>The error message, for failures.</summary>
    [Id(7)] public string? Message { get; init; }

    /// <summary>
    /// The event's position in its run's history: 1, 2, 3, … in the order the run recorded them (0 for events written
    /// by versions before sequence numbers existed, which come first).
    /// </summary>
    [Id(8)] public long Sequence { get; init; }

    /// <summary>
    /// This event's outcome was later superseded by a rewind (<see cref="RunEventKind.Rewound"/>): an event of a node
    /// (task started, completed, failed, retry scheduled or a task's log line; delay started or woken; signal awaited, received by the wait
    /// or consumed) recorded before a rewind that superseded that node. Computed when the history is read, not stored.
    /// </summary>
    [Id(9)] public bool Superseded { get; init; }
}

/// <summary>A filter and page request for <see cref="ISayiirClient.ListRunsAsync"/>. Results are newest first.</summary>
[GenerateSerializer, Alias("sayiir.RunQuery"), Immutable]
public sealed record RunQuery
{
    /// <summary>Only runs of this workflow.</summary>
    [Id(0)] public string? WorkflowName { get; init; }

    /// <summary>Only runs in one of these states (empty or null: any).</summary>
    [Id(1)] public IReadOnlyList<WorkflowState>? States { get; init; }

    /// <summary>Only runs created at or after this instant.</summary>
    [Id(2)] public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only runs created before this instant.</summary>
    [Id(3)] public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>Page size, 1 to 1000. Default 100.</summary>
    [Id(4)] public int PageSize { get; init; } = 100;

    /// <summary>The <see cref="RunPage.ContinuationToken"/> of the previous page (keyset paging: stable while runs change).</summary>
    [Id(5)] public string? ContinuationToken { get; init; }

    /// <summary>Only runs whose instance id starts with this text (ordinal, case-sensitive; null or empty: any).</summary>
    [Id(6)] public string? InstanceIdPrefix { get; init; }

    internal void Validate()
    {
        if (PageSize is < 1 or > 1000) throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, "PageSize must be between 1 and 1000.");
        if (InstanceIdPrefix is { Length: > 1024 } prefix)
            throw new ArgumentOutOfRangeException(nameof(InstanceIdPrefix), prefix.Length, "InstanceIdPrefix can be at most 1024 characters (an instance id's maximum length).");
        if (CreatedFrom is { } from && CreatedBefore is { } before && from >= before)
            throw new ArgumentException($"CreatedFrom ({from:o}) must be before CreatedBefore ({before:o}).", nameof(CreatedFrom));
    }
}

/// <summary>
/// How many runs match a <see cref="RunQuery"/> (<see cref="ISayiirClient.CountRunsAsync"/>), per state. Every filter of
/// the query applies; its page size and continuation token are ignored.
/// </summary>
[GenerateSerializer, Alias("sayiir.RunCounts"), Immutable]
public sealed record RunCounts
{
    /// <summary>The number of matching runs in each state; a state without runs is absent.</summary>
    [Id(0)] public required IReadOnlyDictionary<WorkflowState, long> ByState { get; init; }

    /// <summary>The number of matching runs in all states.</summary>
    public long Total => ByState.Values.Sum();

    /// <summary>The number of matching runs in <paramref name="state"/> (0 when none).</summary>
    public long this[WorkflowState state] => ByState.TryGetValue(state, out var count) ? count : 0;
}

/// <summary>
/// A time window cut into equal buckets, for <see cref="ISayiirClient.GetRunActivityAsync"/>: runs started, completed,
/// failed and cancelled in each bucket.
/// </summary>
[GenerateSerializer, Alias("sayiir.RunActivityQuery"), Immutable]
public sealed record RunActivityQuery
{
    /// <summary>The most buckets one query may ask for.</summary>
    public const int MaxBuckets = 1440;

    /// <summary>Start of the window (inclusive).</summary>
    [Id(0)] public required DateTimeOffset From { get; init; }

    /// <summary>End of the window (exclusive). Default: <see cref="From"/> plus one hour.</summary>
    [Id(1)] public DateTimeOffset? To { get; init; }

    /// <summary>The bucket length, 1 second to 1 day. Default one minute.</summary>
    [Id(2)] public TimeSpan BucketSize { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Only runs of this workflow (null: all).</summary>
    [Id(3)] public string? WorkflowName { get; init; }

    /// <summary>The end of the window.</summary>
    public DateTimeOffset End => To ?? From.AddHours(1);

    internal void Validate()
    {
        if (BucketSize < TimeSpan.FromSeconds(1) || BucketSize > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(BucketSize), BucketSize, "BucketSize must be between 1 second and 1 day.");
        if (End <= From) throw new ArgumentException($"To ({End:o}) must be after From ({From:o}).", nameof(To));
        var buckets = Math.Ceiling((End - From) / BucketSize);
        if (buckets > MaxBuckets)
            throw new ArgumentException($"The window from {From:o} to {End:o} holds {buckets} buckets of {BucketSize}; at most {MaxBuckets} are allowed.", nameof(BucketSize));
    }
}

/// <summary>Runs that started and ended within one bucket of a <see cref="RunActivityQuery"/>.</summary>
[GenerateSerializer, Alias("sayiir.RunActivityBucket"), Immutable]
public sealed record RunActivityBucket
{
    /// <summary>Start of the bucket.</summary>
    [Id(0)] public required DateTimeOffset Start { get; init; }

    /// <summary>Runs created in the bucket.</summary>
    [Id(1)] public long Started { get; init; }

    /// <summary>Runs whose state was last written in the bucket and that are now Completed.</summary>
    [Id(2)] public long Completed { get; init; }

    /// <summary>Runs whose state was last written in the bucket and that are now Failed.</summary>
    [Id(3)] public long Failed { get; init; }

    /// <summary>Runs whose state was last written in the bucket and that are now Cancelled.</summary>
    [Id(4)] public long Cancelled { get; init; }

    /// <summary>Runs whose state was last written in the bucket and that are now Compensated.</summary>
    [Id(5)] public long Compensated { get; init; }
}

/// <summary>One line of a run listing.</summary>
[GenerateSerializer, Alias("sayiir.RunSummary"), Immutable]
public sealed record RunSummary
{
    /// <summary>The instance id.</summary>
    [Id(0)] public required string InstanceId { get; init; }

    /// <summary>The workflow name.</summary>
    [Id(1)] public required string WorkflowName { get; init; }

    /// <summary>The stored state.</summary>
    [Id(2)] public required WorkflowState State { get; init; }

    /// <summary>When the run was created.</summary>
    [Id(3)] public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the run's state was last written.</summary>
    [Id(4)] public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>The version label of the run's definition (null when unversioned, and for runs stored before versions were listed).</summary>
    [Id(5)] public string? WorkflowVersion { get; init; }

    /// <summary>The hash of the run's definition (null for runs stored before hashes were listed).</summary>
    [Id(6)] public string? DefinitionHash { get; init; }
}

/// <summary>One version of a workflow: registered on the silo that answered, used by active runs, or both.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowVersionInfo"), Immutable]
public sealed record WorkflowVersionInfo
{
    /// <summary>The workflow name.</summary>
    [Id(0)] public required string WorkflowName { get; init; }

    /// <summary>The version label (null: unversioned).</summary>
    [Id(1)] public string? Version { get; init; }

    /// <summary>The definition's hash (a version whose definition changed appears once per hash).</summary>
    [Id(2)] public required string DefinitionHash { get; init; }

    /// <summary>Whether this exact definition is registered (on the silo that answered; every silo should register the same set).</summary>
    [Id(3)] public bool IsRegistered { get; init; }

    /// <summary>Whether it is the version new runs of the workflow start on.</summary>
    [Id(4)] public bool IsLatest { get; init; }

    /// <summary>Runs of this definition that have not ended (Running, Waiting, AwaitingSignal, Paused or Queued).</summary>
    [Id(5)] public long ActiveRuns { get; init; }
}

/// <summary>A page of runs, newest first.</summary>
[GenerateSerializer, Alias("sayiir.RunPage"), Immutable]
public sealed record RunPage
{
    /// <summary>The runs of this page.</summary>
    [Id(0)] public required IReadOnlyList<RunSummary> Runs { get; init; }

    /// <summary>Pass it in the next query for the next page; null when this is the last page.</summary>
    [Id(1)] public string? ContinuationToken { get; init; }
}
