namespace Sayiir;

/// <summary>Options of a start.</summary>
public sealed record StartOptions
{
    /// <summary>What to do if the instance id is taken. Default <see cref="ConflictPolicy.Fail"/>.</summary>
    public ConflictPolicy OnConflict { get; init; } = ConflictPolicy.Fail;

    /// <summary>Metadata visible to every task through <see cref="TaskContext.Metadata"/>.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>
    /// For a start by workflow name: the version to run (a <see cref="WorkflowDefinition.Version"/> label registered on
    /// the silos). Null (the default) runs the latest registered version. A start with a definition runs that definition;
    /// a version given here must then be the definition's own.
    /// </summary>
    public string? Version { get; init; }
}

/// <summary>
/// Starts, observes and controls workflow runs. Available in a co-hosted silo app (from <c>AddSayiir</c>) and in a
/// client-only app (from <c>AddSayiirClient</c>). Waiting for a result is never one long grain call, so runs may
/// take far longer than the grain call timeout. Cancelling a method's <see cref="CancellationToken"/> stops the
/// caller's wait, never the run.
/// </summary>
/// <remarks>
/// Every error about a run is a <see cref="SayiirException"/> carrying its ids (instance id, and node or task id where
/// one is involved). Three kinds of error are deliberately not Sayiir types: a null argument
/// (<see cref="ArgumentNullException"/>) or an empty workflow, signal or task name (<see cref="ArgumentException"/>),
/// as .NET conventions expect for a caller's programming error (an instance id is checked more closely and throws
/// <see cref="InvalidInstanceIdException"/>); an invalid <see cref="RunQuery"/> (page size, time range or continuation
/// token: <see cref="ArgumentException"/> or <see cref="ArgumentOutOfRangeException"/>); and Orleans' own transport
/// errors (for example <see cref="TimeoutException"/> when the cluster does not answer in time), plus
/// <see cref="OperationCanceledException"/> when the caller's token is cancelled. Any call that changes a run may also
/// throw <see cref="WorkflowRunMovedException"/> if the run moves to another silo meanwhile: call again.
/// </remarks>
public partial interface ISayiirClient
{
    /// <summary>Starts a run (or joins it, per <see cref="StartOptions.OnConflict"/>) and awaits its output.</summary>
    /// <exception cref="InvalidInstanceIdException">The instance id is empty, too long or has control characters.</exception>
    /// <exception cref="WorkflowNotFoundException">The workflow is not registered on the silo.</exception>
    /// <exception cref="DefinitionMismatchException">The silo's definition of the workflow differs from the caller's.</exception>
    /// <exception cref="PayloadSerializationException">The input cannot be encoded, or does not decode as the workflow's input type.</exception>
    /// <exception cref="WorkflowAlreadyExistsException">The instance id is taken and the conflict policy is <see cref="ConflictPolicy.Fail"/>.</exception>
    /// <exception cref="WorkflowFailedException">The run failed.</exception>
    /// <exception cref="WorkflowCancelledException">The run was cancelled.</exception>
    Task<TOutput> RunAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts a run and returns as soon as it is durably recorded.</summary>
    /// <exception cref="InvalidInstanceIdException">The instance id is empty, too long or has control characters.</exception>
    /// <exception cref="WorkflowNotFoundException">The workflow is not registered on the silo.</exception>
    /// <exception cref="DefinitionMismatchException">The silo's definition of the workflow differs from the caller's.</exception>
    /// <exception cref="PayloadSerializationException">The input cannot be encoded, or does not decode as the workflow's input type.</exception>
    /// <exception cref="WorkflowAlreadyExistsException">The instance id is taken and the conflict policy is <see cref="ConflictPolicy.Fail"/>.</exception>
    Task<WorkflowHandle<TOutput>> StartAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts a run of a workflow registered on the silos, by name (for clients that do not have the definition).</summary>
    /// <exception cref="InvalidInstanceIdException">The instance id is empty, too long or has control characters.</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow of that name is registered on the silo.</exception>
    /// <exception cref="PayloadSerializationException">The input cannot be encoded, or does not decode as the workflow's input type.</exception>
    /// <exception cref="WorkflowAlreadyExistsException">The instance id is taken and the conflict policy is <see cref="ConflictPolicy.Fail"/>.</exception>
    Task<WorkflowHandle> StartAsync(string workflowName, object? input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>The run's status (<see cref="WorkflowState.NotFound"/> when there is none).</summary>
    Task<WorkflowStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Waits until the run ends and returns its output.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="WorkflowFailedException">The run failed; its <see cref="WorkflowFailedException.Failure"/> has the error chain.</exception>
    /// <exception cref="WorkflowCancelledException">The run was cancelled.</exception>
    /// <exception cref="WorkflowNotFoundException">The run's workflow is not registered on the silo holding it, so it cannot continue.</exception>
    /// <exception cref="DefinitionMismatchException">The run's workflow definition changed since it started, so it cannot continue.</exception>
    /// <exception cref="PayloadSerializationException">The output does not decode as <typeparamref name="TOutput"/>.</exception>
    Task<TOutput> WaitForResultAsync<TOutput>(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>The output of a completed task (or signal wait, loop, delay or route key) of the run.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="TaskResultNotFoundException">The run has no output for that id: not completed yet, never completed, or no such node (the message says which).</exception>
    /// <exception cref="PayloadSerializationException">The output does not decode as <typeparamref name="T"/>.</exception>
    Task<T> GetTaskResultAsync<T>(string instanceId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Continues a failed or interrupted run from its last checkpoint; completed tasks are not re-executed. A run that
    /// failed while compensating (<see cref="WorkflowStatus.CompensationFailures"/>) runs its failed undo steps again
    /// instead, with a fresh retry budget, and ends <see cref="WorkflowState.Compensated"/> once they succeed.
    /// </summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="WorkflowNotFoundException">The run's workflow is not registered on the silo.</exception>
    /// <exception cref="DefinitionMismatchException">The registered definition differs from the one the run started with.</exception>
    Task<WorkflowStatus> ResumeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Cancels a running, waiting or paused run; a running task's token fires. No-op on a cancelled run.</summary>
    /// <param name="instanceId">The run.</param>
    /// <param name="reason">Why, recorded with the cancellation.</param>
    /// <param name="by">Who, recorded with the cancellation.</param>
    /// <param name="compensate">
    /// When true and compensable tasks (declared with <c>compensate:</c>) have completed, their undo steps run, the
    /// latest completion first, and the run ends <see cref="WorkflowState.Compensated"/> (or
    /// <see cref="WorkflowState.Failed"/> when an undo step fails for good); with nothing to undo it ends
    /// <see cref="WorkflowState.Cancelled"/>. Default false: cancelled as is.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait for the answer (not the cancel).</param>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="InvalidRunStateException">The run has completed, failed or been compensated, or is compensating.</exception>
    Task<WorkflowStatus> CancelAsync(string instanceId, string? reason = null, string? by = null, bool compensate = false, CancellationToken cancellationToken = default);

    /// <summary>Pauses the run at its next step boundary.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="InvalidRunStateException">The run has ended.</exception>
    Task<WorkflowStatus> PauseAsync(string instanceId, string? reason = null, string? by = null, CancellationToken cancellationToken = default);

    /// <summary>Continues a paused run.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    Task<WorkflowStatus> UnpauseAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Rewinds a run to just before <paramref name="beforeStep"/>, a step it completed (after a bug fix, say): the run
    /// continues from there, re-running that step and everything after it, while nothing before it runs again. The
    /// superseded steps' events stay in the history, marked <see cref="RunHistoryEvent.Superseded"/>, after a
    /// <see cref="RunEventKind.Rewound"/> event; <see cref="GetTaskResultAsync{T}"/> answers for them only once they
    /// have run again. Allowed on a Failed, Cancelled, Completed or paused run (not on one that compensated or is
    /// compensating: its completed steps were undone): an ended run becomes Running, a paused
    /// run stays Paused until it is unpaused.
    /// </summary>
    /// <remarks>
    /// <paramref name="beforeStep"/> is a task, delay, signal wait, loop or route id (a route's id is its key selector's:
    /// rewinding it chooses the branch again). Superseded are the step, every later step of its chain and, going up,
    /// every later step of each enclosing chain; inside a fork branch, the rest of that branch, the fork's join and
    /// everything after the fork (the other branches keep their outputs). A loop is rewound as a whole (it starts again
    /// at iteration 1). A superseded delay waits its whole duration again and a superseded signal wait (or signal
    /// timeout) starts afresh: it consumes a new signal, or one that is still buffered, never the one it consumed
    /// before. Re-run tasks get new <see cref="TaskContext.IdempotencyKey"/>s.
    /// </remarks>
    /// <exception cref="InvalidInstanceIdException">The instance id is empty, too long or has control characters.</exception>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="InvalidRunStateException">The run is running, waiting or awaiting a signal (pause it first), or paused while a task still runs.</exception>
    /// <exception cref="InvalidRewindStepException">The run cannot be rewound before that step (not completed, unknown, or inside a loop body); the message lists the steps it can.</exception>
    /// <exception cref="WorkflowNotFoundException">The run's workflow is not registered on the silo.</exception>
    /// <exception cref="DefinitionMismatchException">The registered definition differs from the one the run started with.</exception>
    Task<WorkflowStatus> RewindAsync(string instanceId, string beforeStep, string? reason = null, string? by = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a signal: delivered FIFO per (run, name), buffered until the run waits for it (even before it starts).</summary>
    /// <exception cref="InvalidRunStateException">The run has ended.</exception>
    /// <exception cref="PayloadSerializationException">The payload cannot be encoded.</exception>
    Task SignalAsync<T>(string instanceId, string signalName, T payload, CancellationToken cancellationToken = default);

    /// <summary>The run's durable history, oldest first.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    Task<IReadOnlyList<RunHistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a run onto another registered version of its workflow (by default the latest), after a fix or when the
    /// version it started on is being removed. Allowed when every step the run has completed or started exists in the
    /// target version with the same id, kind and position; otherwise nothing changes. The run must not be running a task
    /// (a run blocked because its version is no longer registered, a paused, waiting or failed run is fine): pause it
    /// first. A failed run stays failed on the new version until <see cref="ResumeAsync"/>.
    /// </summary>
    /// <param name="instanceId">The run.</param>
    /// <param name="toVersion">The target version label; null for the latest registered version.</param>
    /// <param name="cancellationToken">Stops the caller's wait.</param>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="WorkflowNotFoundException">The target version (or the workflow) is not registered on the silo.</exception>
    /// <exception cref="InvalidRunStateException">The run has completed or was cancelled, or is running a task.</exception>
    /// <exception cref="IncompatibleUpgradeException">The target version lacks a step the run completed or started, or has it with another kind or position (the differences are listed).</exception>
    Task<WorkflowStatus> UpgradeAsync(string instanceId, string? toVersion = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The versions of registered workflows and of the definitions active runs use, with the number of active runs on each
    /// (Running, Waiting, AwaitingSignal, Paused or Queued, including runs blocked on a version no longer registered): an old
    /// version can be removed once it has none.
    /// </summary>
    /// <param name="workflowName">Only this workflow; null for every workflow.</param>
    /// <param name="cancellationToken">Stops the caller's wait.</param>
    Task<IReadOnlyList<WorkflowVersionInfo>> GetWorkflowVersionsAsync(string? workflowName = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes ended runs (Completed, Failed, Cancelled) matching <paramref name="query"/> — each run's state, history,
    /// archived outputs and listing entry — and returns how many were removed. Active runs are never removed: the query's
    /// active states are ignored (with no states given, every ended state is purged). It works through the matching runs
    /// in steps of <see cref="RunQuery.PageSize"/>, so it never holds up live runs. A purged run is gone: its id reads as
    /// <see cref="WorkflowState.NotFound"/> and may be started again.
    /// </summary>
    /// <param name="query">Which runs: workflow, states, creation range; <see cref="RunQuery.ContinuationToken"/> must be null.</param>
    /// <param name="cancellationToken">Stops the purge between steps (runs already purged stay purged).</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="RunQuery.PageSize"/> is not within 1 to 1000.</exception>
    /// <exception cref="ArgumentException">The query has a continuation token, or an invalid time range.</exception>
    Task<long> PurgeRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// The graph of a workflow registered on the silos — every node with its id, kind, branches and options — for a
    /// client that does not hold the definition (a dashboard drawing a run's flow, for one).
    /// </summary>
    /// <param name="workflowName">The workflow.</param>
    /// <param name="version">The version label; null for the latest registered version.</param>
    /// <param name="cancellationToken">Stops the caller's wait.</param>
    /// <exception cref="WorkflowNotFoundException">No such workflow or version is registered on the silo that answered.</exception>
    Task<WorkflowGraph> GetWorkflowGraphAsync(string workflowName, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>Lists runs, newest first, filtered by workflow, state, creation time and instance-id prefix, with keyset paging.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="RunQuery.PageSize"/> is not within 1 to 1000, or the prefix is longer than an instance id can be.</exception>
    /// <exception cref="ArgumentException"><see cref="RunQuery.CreatedFrom"/> is not before <see cref="RunQuery.CreatedBefore"/>, or the continuation token is not one a listing returned.</exception>
    Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// How many runs match <paramref name="query"/>, per state (its page size and continuation token are ignored).
    /// Pass a query without <see cref="RunQuery.States"/> to get every state's count for the other filters.
    /// </summary>
    /// <exception cref="ArgumentException">The query is invalid (as for <see cref="ListRunsAsync"/>).</exception>
    Task<RunCounts> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs started, completed, failed and cancelled per bucket of a time window (one entry per bucket, oldest first,
    /// empty buckets included). A run counts as ended in the bucket where its state was last written.
    /// </summary>
    /// <exception cref="ArgumentException">The window is empty, its bucket size is not within 1 second to 1 day, or it holds more than <see cref="RunActivityQuery.MaxBuckets"/> buckets.</exception>
    Task<IReadOnlyList<RunActivityBucket>> GetRunActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// The silos of the cluster that are not dead (by address), each with the runs it drives and the task attempts in
    /// flight on it. Each active silo is asked for its figures (at most 5 s); one that does not answer has null figures.
    /// </summary>
    Task<IReadOnlyList<SiloInfo>> GetClusterAsync(CancellationToken cancellationToken = default);
}

/// <summary>A started run.</summary>
public class WorkflowHandle
{
    /// <summary>
    /// A handle whose methods call <paramref name="client"/>: for client decorators, whose starts return handles
    /// bound to the decorator rather than to the client they wrap.
    /// </summary>
    /// <param name="client">The client the handle's methods call.</param>
    /// <param name="instanceId">The run's instance id.</param>
    /// <param name="status">The status the start returned.</param>
    public WorkflowHandle(ISayiirClient client, string instanceId, WorkflowStatus status)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentNullException.ThrowIfNull(status);
        Client = client;
        InstanceId = instanceId;
        StartStatus = status;
    }

    private protected ISayiirClient Client { get; }

    /// <summary>The run's instance id.</summary>
    public string InstanceId { get; }

    /// <summary>The status returned by the start (for <see cref="ConflictPolicy.UseExisting"/>, the existing run's).</summary>
    public WorkflowStatus StartStatus { get; }

    /// <summary>The run's current status.</summary>
    public Task<WorkflowStatus> GetStatusAsync(CancellationToken cancellationToken = default) => Client.GetStatusAsync(InstanceId, cancellationToken);

    /// <summary>Waits for the run's output as <typeparamref name="T"/>.</summary>
    public Task<T> GetResultAsync<T>(CancellationToken cancellationToken = default) => Client.WaitForResultAsync<T>(InstanceId, cancellationToken);
}

/// <summary>A started run with a typed output.</summary>
public sealed class WorkflowHandle<TOutput> : WorkflowHandle
{
    /// <summary>
    /// A handle whose methods call <paramref name="client"/>: for client decorators, whose starts return handles
    /// bound to the decorator rather than to the client they wrap.
    /// </summary>
    /// <param name="client">The client the handle's methods call.</param>
    /// <param name="instanceId">The run's instance id.</param>
    /// <param name="status">The status the start returned.</param>
    public WorkflowHandle(ISayiirClient client, string instanceId, WorkflowStatus status) : base(client, instanceId, status) { }

    /// <summary>Waits for the run's output.</summary>
    public Task<TOutput> GetResultAsync(CancellationToken cancellationToken = default) => Client.WaitForResultAsync<TOutput>(InstanceId, cancellationToken);
}
