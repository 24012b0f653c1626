namespace Sayiir;

/// <summary>Where a run is.</summary>
public enum WorkflowState
{
    /// <summary>No run with that instance id exists.</summary>
    NotFound = 0,

    /// <summary>Running a task (or about to).</summary>
    Running = 1,

    /// <summary>Parked on a delay until <see cref="WorkflowStatus.WakeAt"/>.</summary>
    Waiting = 2,

    /// <summary>Parked until a signal arrives (<see cref="WorkflowStatus.SignalName"/>).</summary>
    AwaitingSignal = 3,

    /// <summary>Paused at a step boundary.</summary>
    Paused = 4,

    /// <summary>Finished with an output.</summary>
    Completed = 5,

    /// <summary>A task exhausted its retries (or a flow error occurred); see <see cref="WorkflowStatus.Failure"/>.</summary>
    Failed = 6,

    /// <summary>Cancelled; see <see cref="WorkflowStatus.Cancellation"/>.</summary>
    Cancelled = 7,

    /// <summary>
    /// Accepted but waiting for a concurrency slot: its workflow is at its limit of active runs, or the task it is
    /// about to run waits for its <see cref="TaskOptions.ConcurrencyKey"/> (<see cref="WorkflowStatus.ConcurrencyKey"/>).
    /// An active state: it starts (or goes on) in FIFO order when a slot frees, and can be cancelled meanwhile.
    /// </summary>
    Queued = 8,

    /// <summary>
    /// Undoing: the run failed (or was cancelled with compensation) after compensable tasks completed, and their undo
    /// steps run now, the latest completion first (<see cref="WorkflowStatus.CurrentTaskId"/> names the one running).
    /// An active state: it ends <see cref="Compensated"/>, or <see cref="Failed"/> when an undo step failed for good.
    /// </summary>
    Compensating = 9,

    /// <summary>
    /// Ended after undoing: every completed compensable task was undone. <see cref="WorkflowStatus.Failure"/> says what
    /// failed the run, or <see cref="WorkflowStatus.Cancellation"/> who cancelled it with compensation.
    /// </summary>
    Compensated = 10,
}

/// <summary>What to do when a run with the requested instance id already exists.</summary>
public enum ConflictPolicy
{
    /// <summary>Throw <see cref="WorkflowAlreadyExistsException"/> (default).</summary>
    Fail = 0,

    /// <summary>Return the existing run; run nothing new.</summary>
    UseExisting = 1,

    /// <summary>Discard the existing run (cancelling it if active) and start afresh.</summary>
    TerminateExisting = 2,
}

/// <summary>
/// Why a run (or one attempt of a task) failed: the failing task or flow node, the attempt, the error, and the chain
/// of the error's inner failures (<see cref="InnerFailure"/>, see <see cref="FailureDetails"/> for its bounds).
/// </summary>
[GenerateSerializer, Alias("sayiir.TaskFailure"), Immutable]
public sealed record TaskFailure
{
    /// <summary>The failing task (or flow node) id.</summary>
    [Id(0)] public required string TaskId { get; init; }

    /// <summary>How many attempts were made.</summary>
    [Id(1)] public required int Attempt { get; init; }

    /// <summary>The error's .NET type name.</summary>
    [Id(2)] public required string ErrorType { get; init; }

    /// <summary>The error message.</summary>
    [Id(3)] public required string Message { get; init; }

    /// <summary>The stack trace, when there is one.</summary>
    [Id(4)] public string? StackTrace { get; init; }

    /// <summary>When the failure was recorded.</summary>
    [Id(5)] public DateTimeOffset At { get; init; }

    /// <summary>The error's inner cause, outermost first; null when it has none (and for failures stored before causes were kept).</summary>
    [Id(6)] public FailureDetails? InnerFailure { get; init; }

    /// <summary>
    /// The values of one of Sayiir's own flow errors (<c>InstanceId</c>, <c>NodeId</c> and, by error,
    /// <c>MaxIterations</c>, <c>Key</c>, <c>SignalName</c> or <c>Timeout</c>); null for any other error.
    /// <see cref="WorkflowFailedException"/> rebuilds the typed error from them.
    /// </summary>
    [Id(7)] public IReadOnlyDictionary<string, string>? Properties { get; init; }

    /// <summary>Whether this error or one of its inner failures is a <typeparamref name="T"/> (see <see cref="IsCausedBy(Type)"/>).</summary>
    public bool IsCausedBy<T>() where T : Exception => IsCausedBy(typeof(T));

    /// <summary>
    /// Whether this error or one of its inner failures is of type <paramref name="exceptionType"/> or a type derived
    /// from it. Types are matched by full name; a derived type is recognised when its assembly is loaded in this process.
    /// </summary>
    public bool IsCausedBy(Type exceptionType)
    {
        ArgumentNullException.ThrowIfNull(exceptionType);
        return FailureChain.Matches(ErrorType, exceptionType) || (InnerFailure?.IsCausedBy(exceptionType) ?? false);
    }

    /// <summary>Value equality, <see cref="Properties"/> compared by content.</summary>
    public bool Equals(TaskFailure? other) =>
        other is not null
        && TaskId == other.TaskId
        && Attempt == other.Attempt
        && ErrorType == other.ErrorType
        && Message == other.Message
        && StackTrace == other.StackTrace
        && At == other.At
        && Equals(InnerFailure, other.InnerFailure)
        && SameProperties(Properties, other.Properties);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(TaskId, Attempt, ErrorType, Message, At);

    private static bool SameProperties(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var value) && value == p.Value);

    /// <summary>
    /// The failure for <paramref name="error"/>: its type, message and stack trace (or <paramref name="stackTrace"/> when
    /// it was never thrown), its inner-failure chain, and the values of a Sayiir flow error.
    /// </summary>
    internal static TaskFailure FromException(string taskId, int attempt, Exception error, DateTimeOffset at, string? stackTrace = null) => new()
    {
        TaskId = taskId,
        Attempt = attempt,
        ErrorType = FailureChain.TypeName(error),
        Message = error.Message,
        StackTrace = error.StackTrace ?? stackTrace,
        At = at,
        InnerFailure = FailureChain.InnerChainOf(error),
        Properties = FlowErrors.PropertiesOf(error),
    };
}

/// <summary>Who cancelled a run, why, when, and what it interrupted.</summary>
[GenerateSerializer, Alias("sayiir.CancellationInfo"), Immutable]
public sealed record CancellationInfo
{
    /// <summary>The reason given.</summary>
    [Id(0)] public string? Reason { get; init; }

    /// <summary>Who asked.</summary>
    [Id(1)] public string? By { get; init; }

    /// <summary>When.</summary>
    [Id(2)] public DateTimeOffset At { get; init; }

    /// <summary>The task that was running, if any.</summary>
    [Id(3)] public string? InterruptedTaskId { get; init; }
}

/// <summary>Who paused a run, why and when.</summary>
[GenerateSerializer, Alias("sayiir.PauseInfo"), Immutable]
public sealed record PauseInfo
{
    /// <summary>The reason given.</summary>
    [Id(0)] public string? Reason { get; init; }

    /// <summary>Who asked.</summary>
    [Id(1)] public string? By { get; init; }

    /// <summary>When.</summary>
    [Id(2)] public DateTimeOffset At { get; init; }
}

/// <summary>A snapshot of a run.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowStatus"), Immutable]
public sealed record WorkflowStatus
{
    /// <summary>The instance id.</summary>
    [Id(0)] public required string InstanceId { get; init; }

    /// <summary>The state.</summary>
    [Id(1)] public required WorkflowState State { get; init; }

    /// <summary>The workflow name (null when <see cref="WorkflowState.NotFound"/>).</summary>
    [Id(2)] public string? WorkflowName { get; init; }

    /// <summary>The definition hash the run was started with.</summary>
    [Id(3)] public string? DefinitionHash { get; init; }

    /// <summary>The task(s) running now, comma-separated when a fork runs several.</summary>
    [Id(4)] public string? CurrentTaskId { get; init; }

    /// <summary>When a <see cref="WorkflowState.Waiting"/> run wakes.</summary>
    [Id(5)] public DateTimeOffset? WakeAt { get; init; }

    /// <summary>The signal an <see cref="WorkflowState.AwaitingSignal"/> run waits for.</summary>
    [Id(6)] public string? SignalName { get; init; }

    /// <summary>When the signal wait times out, if it has a timeout.</summary>
    [Id(7)] public DateTimeOffset? SignalTimeoutAt { get; init; }

    /// <summary>Pause details of a <see cref="WorkflowState.Paused"/> run.</summary>
    [Id(8)] public PauseInfo? Pause { get; init; }

    /// <summary>Failure details of a <see cref="WorkflowState.Failed"/> run.</summary>
    [Id(9)] public TaskFailure? Failure { get; init; }

    /// <summary>Cancellation details of a <see cref="WorkflowState.Cancelled"/> run.</summary>
    [Id(10)] public CancellationInfo? Cancellation { get; init; }

    /// <summary>When the run was created.</summary>
    [Id(11)] public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>When the run last changed.</summary>
    [Id(12)] public DateTimeOffset? UpdatedAt { get; init; }

    // The codec-encoded output of a completed run. Internal: users read outputs typed, through
    // ISayiirClient.WaitForResultAsync<T> (at once for a completed run) or GetTaskResultAsync<T>.
    [Id(13)] internal byte[]? OutputPayload { get; init; }

    /// <summary>
    /// When the running attempt times out (its task's <see cref="TaskOptions.Timeout"/> from the instant it was
    /// dispatched, on the engine's clock); the earliest when a fork runs several; null when none has a timeout.
    /// </summary>
    [Id(14)] public DateTimeOffset? TaskTimeoutAt { get; init; }

    /// <summary>The version label of the definition the run runs on (null when unversioned or <see cref="WorkflowState.NotFound"/>).</summary>
    [Id(15)] public string? WorkflowVersion { get; init; }

    /// <summary>
    /// The concurrency key a <see cref="WorkflowState.Queued"/> run waits for (a task's <see cref="TaskOptions.ConcurrencyKey"/>);
    /// null when it waits for its workflow's limit of active runs, and when it is not queued.
    /// </summary>
    [Id(16)] public string? ConcurrencyKey { get; init; }

    /// <summary>
    /// The undo steps that failed for good (their task id, last attempt and error), in the order they ran, when the
    /// run tried to compensate: a <see cref="WorkflowState.Failed"/> run whose compensation did not finish. Null or
    /// empty otherwise. <see cref="ISayiirClient.ResumeAsync"/> runs them again.
    /// </summary>
    [Id(22)] public IReadOnlyList<TaskFailure>? CompensationFailures { get; init; }

    /// <summary>
    /// The silo tags a running task waits for (its <see cref="TaskOptions.RequireTags"/>, comma-separated) while no live
    /// silo declares them all; null when no task waits for a silo.
    /// </summary>
    [Id(17)] public string? AwaitingSiloTags { get; init; }

    /// <summary>Whether the run has ended (completed, failed, cancelled or compensated).</summary>
    public bool IsTerminal => State is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled or WorkflowState.Compensated;
}
