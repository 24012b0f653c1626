namespace Sayiir;

/// <summary>Options of a start.</summary>
public sealed record StartOptions
{
    /// <summary>What to do if the instance id is taken. Default <see cref="ConflictPolicy.Fail"/>.</summary>
    public ConflictPolicy OnConflict { get; init; } = ConflictPolicy.Fail;

    /// <summary>Metadata visible to every task through <see cref="TaskContext.Metadata"/>.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>
/// Starts, observes and controls workflow runs. Available in a co-hosted silo app (from <c>AddSayiir</c>) and in a
/// client-only app (from <c>AddSayiirClient</c>). Waiting for a result is never one long grain call, so runs may
/// take far longer than the grain call timeout. Cancelling a method's <see cref="CancellationToken"/> stops the
/// caller's wait, never the run.
/// </summary>
public interface ISayiirClient
{
    /// <summary>Starts a run (or joins it, per <see cref="StartOptions.OnConflict"/>) and awaits its output.</summary>
    /// <exception cref="WorkflowFailedException">The run failed.</exception>
    /// <exception cref="WorkflowCancelledException">The run was cancelled.</exception>
    Task<TOutput> RunAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts a run and returns as soon as it is durably recorded.</summary>
    Task<WorkflowHandle<TOutput>> StartAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts a run of a workflow registered on the silos, by name (for clients that do not have the definition).</summary>
    Task<WorkflowHandle> StartAsync(string workflowName, object? input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>The run's status (<see cref="WorkflowState.NotFound"/> when there is none).</summary>
    Task<WorkflowStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Waits until the run ends and returns its output.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    /// <exception cref="WorkflowFailedException">The run failed.</exception>
    /// <exception cref="WorkflowCancelledException">The run was cancelled.</exception>
    Task<TOutput> WaitForResultAsync<TOutput>(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>The output of a completed task of the run.</summary>
    /// <exception cref="KeyNotFoundException">The task has not completed (or does not exist).</exception>
    Task<T> GetTaskResultAsync<T>(string instanceId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Continues a failed or interrupted run from its last checkpoint; completed tasks are not re-executed.</summary>
    Task<WorkflowStatus> ResumeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Cancels a running, waiting or paused run; a running task's token fires. No-op on a cancelled run.</summary>
    Task<WorkflowStatus> CancelAsync(string instanceId, string? reason = null, string? by = null, CancellationToken cancellationToken = default);

    /// <summary>Pauses the run at its next step boundary.</summary>
    Task<WorkflowStatus> PauseAsync(string instanceId, string? reason = null, string? by = null, CancellationToken cancellationToken = default);

    /// <summary>Continues a paused run.</summary>
    Task<WorkflowStatus> UnpauseAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Sends a signal: delivered FIFO per (run, name), buffered until the run waits for it.</summary>
    Task SignalAsync<T>(string instanceId, string signalName, T payload, CancellationToken cancellationToken = default);

    /// <summary>The run's durable history, oldest first.</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    Task<IReadOnlyList<RunHistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Lists runs, newest first, filtered by workflow, state and creation time, with keyset paging.</summary>
    Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default);
}

/// <summary>A started run.</summary>
public class WorkflowHandle
{
    internal WorkflowHandle(ISayiirClient client, string instanceId, WorkflowStatus status)
    {
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
    internal WorkflowHandle(ISayiirClient client, string instanceId, WorkflowStatus status) : base(client, instanceId, status) { }

    /// <summary>Waits for the run's output.</summary>
    public Task<TOutput> GetResultAsync(CancellationToken cancellationToken = default) => Client.WaitForResultAsync<TOutput>(InstanceId, cancellationToken);
}
