using System.Collections.Concurrent;

namespace Sayiir.Testing;

/// <summary>
/// The environment's client: the cluster's own, remembering the instance id of every run it starts so that
/// <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/> knows them without depending on the run listing, which
/// is written after the run's own state.
/// </summary>
internal sealed partial class TrackingClient(ISayiirClient inner) : ISayiirClient
{
    private readonly ConcurrentDictionary<string, byte> _started = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Started => [.. _started.Keys];

    public void Forget(string instanceId) => _started.TryRemove(instanceId, out _);

    /// <summary>The environment that skips idle time while a result is awaited, when auto-advance is on.</summary>
    public SayiirTestEnvironment? AutoAdvance { get; set; }

    private Task<T> Awaiting<T>(string instanceId, Task<T> result, CancellationToken cancellationToken) =>
        AutoAdvance is { } environment ? environment.AwaitAdvancingAsync(instanceId, result, cancellationToken) : result;

    public Task<TOutput> RunAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        // The id is chosen here so the run is tracked before it starts (the inner client would choose one alike).
        instanceId ??= NewInstanceId();
        _started.TryAdd(instanceId, 0);
        return Awaiting(instanceId, inner.RunAsync(workflow, input, instanceId, options, cancellationToken), cancellationToken);
    }

    public async Task<WorkflowHandle<TOutput>> StartAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input,
        string? instanceId = null, StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        instanceId ??= NewInstanceId();
        _started.TryAdd(instanceId, 0);
        var handle = await inner.StartAsync(workflow, input, instanceId, options, cancellationToken).ConfigureAwait(false);
        // Bound to this client, so that awaiting its result is tracked (and auto-advanced) too.
        return new WorkflowHandle<TOutput>(this, handle.InstanceId, handle.StartStatus);
    }

    public async Task<WorkflowHandle> StartAsync(string workflowName, object? input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        instanceId ??= NewInstanceId();
        _started.TryAdd(instanceId, 0);
        var handle = await inner.StartAsync(workflowName, input, instanceId, options, cancellationToken).ConfigureAwait(false);
        return new WorkflowHandle(this, handle.InstanceId, handle.StartStatus);
    }

    public Task<WorkflowStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default) =>
        inner.GetStatusAsync(instanceId, cancellationToken);

    public Task<TOutput> WaitForResultAsync<TOutput>(string instanceId, CancellationToken cancellationToken = default) =>
        Awaiting(instanceId, inner.WaitForResultAsync<TOutput>(instanceId, cancellationToken), cancellationToken);

    public Task<T> GetTaskResultAsync<T>(string instanceId, string taskId, CancellationToken cancellationToken = default) =>
        inner.GetTaskResultAsync<T>(instanceId, taskId, cancellationToken);

    public Task<WorkflowStatus> ResumeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        // A resumed run is active again: track it even if it was started elsewhere.
        _started.TryAdd(instanceId, 0);
        return inner.ResumeAsync(instanceId, cancellationToken);
    }

    public Task<WorkflowStatus> CancelAsync(string instanceId, string? reason = null, string? by = null, bool compensate = false, CancellationToken cancellationToken = default) =>
        inner.CancelAsync(instanceId, reason, by, compensate, cancellationToken);

    public Task<WorkflowStatus> PauseAsync(string instanceId, string? reason = null, string? by = null, CancellationToken cancellationToken = default) =>
        inner.PauseAsync(instanceId, reason, by, cancellationToken);

    public Task<WorkflowStatus> UnpauseAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        _started.TryAdd(instanceId, 0);
        return inner.UnpauseAsync(instanceId, cancellationToken);
    }

    public Task<WorkflowStatus> RewindAsync(string instanceId, string beforeStep, string? reason = null, string? by = null,
        CancellationToken cancellationToken = default)
    {
        // A rewound run is active again, like a resumed one.
        _started.TryAdd(instanceId, 0);
        return inner.RewindAsync(instanceId, beforeStep, reason, by, cancellationToken);
    }

    public Task SignalAsync<T>(string instanceId, string signalName, T payload, CancellationToken cancellationToken = default) =>
        inner.SignalAsync(instanceId, signalName, payload, cancellationToken);

    public Task<IReadOnlyList<RunHistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default) =>
        inner.GetHistoryAsync(instanceId, cancellationToken);

    public Task<WorkflowStatus> UpgradeAsync(string instanceId, string? toVersion = null, CancellationToken cancellationToken = default)
    {
        // An upgraded run may continue (a blocked run starts moving): track it.
        _started.TryAdd(instanceId, 0);
        return inner.UpgradeAsync(instanceId, toVersion, cancellationToken);
    }

    public Task<IReadOnlyList<WorkflowVersionInfo>> GetWorkflowVersionsAsync(string? workflowName = null, CancellationToken cancellationToken = default) =>
        inner.GetWorkflowVersionsAsync(workflowName, cancellationToken);

    public Task<long> PurgeRunsAsync(RunQuery query, CancellationToken cancellationToken = default) =>
        inner.PurgeRunsAsync(query, cancellationToken);

    public Task<WorkflowGraph> GetWorkflowGraphAsync(string workflowName, string? version = null, CancellationToken cancellationToken = default) =>
        inner.GetWorkflowGraphAsync(workflowName, version, cancellationToken);

    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default) =>
        inner.ListRunsAsync(query, cancellationToken);

    public Task<RunCounts> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default) =>
        inner.CountRunsAsync(query, cancellationToken);

    public Task<IReadOnlyList<RunActivityBucket>> GetRunActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default) =>
        inner.GetRunActivityAsync(query, cancellationToken);

    public Task<IReadOnlyList<SiloInfo>> GetClusterAsync(CancellationToken cancellationToken = default) =>
        inner.GetClusterAsync(cancellationToken);

    private static string NewInstanceId() => Guid.NewGuid().ToString("n");
}
