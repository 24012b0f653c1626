using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Messaging;
using Sayiir.Hosting;
using Sayiir.Observability;
using Sayiir.Runtime;

namespace Sayiir.Client;

/// <summary>
/// <see cref="ISayiirClient"/> over Orleans grain calls. Results are awaited by long-polling the run grain
/// (each poll shorter than the response timeout, re-issued until the run ends), so waits survive reconnects and
/// runs may last far longer than any grain call.
/// </summary>
internal sealed partial class SayiirClient : ISayiirClient
{
    private readonly IGrainFactory _grains;
    private readonly IPayloadCodec _codec;
    private readonly TimeSpan _pollWindow;
    private (GrainType, GrainInterfaceType)? _runGrainTypes;

    /// <summary>How long past its window a result poll may stay unanswered before it is abandoned and re-sent.</summary>
    private static readonly TimeSpan PollGrace = TimeSpan.FromSeconds(2);

    public SayiirClient(IGrainFactory grains, IPayloadCodec codec, IOptions<SayiirClientOptions> options, IServiceProvider services)
    {
        _grains = grains;
        _codec = codec;
        // IOptions<T> resolves for any T, so ask which side of the wire we are on before reading a timeout.
        var responseTimeout = services.GetService(typeof(ILocalSiloDetails)) is not null
            ? ((IOptions<SiloMessagingOptions>)services.GetService(typeof(IOptions<SiloMessagingOptions>))!).Value.ResponseTimeout
            : ((IOptions<ClientMessagingOptions>?)services.GetService(typeof(IOptions<ClientMessagingOptions>)))?.Value.ResponseTimeout ?? TimeSpan.FromSeconds(30);
        var half = responseTimeout / 2;
        _pollWindow = options.Value.ResultPollWindow < half ? options.Value.ResultPollWindow : half;
    }

    public async Task<TOutput> RunAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        var handle = await StartAsync(workflow, input, instanceId, options, cancellationToken);
        return await WaitForResultAsync<TOutput>(handle.InstanceId, cancellationToken);
    }

    public async Task<WorkflowHandle<TOutput>> StartAsync<TInput, TOutput>(WorkflowDefinition<TInput, TOutput> workflow, TInput input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        if (options?.Version is { } pinned && pinned != workflow.Version)
            throw new ArgumentException($"StartOptions.Version '{pinned}' contradicts the definition's own version {WorkflowVersions.Display(workflow.Version)}: a start with a definition runs that definition.", nameof(options));
        var id = instanceId ?? NewInstanceId();
        InvalidInstanceIdException.ThrowIfInvalid(id);
        var payload = _codec.Encode(input, typeof(TInput), $"input of workflow '{workflow.Name}'");
        var status = await StartCoreAsync(id, workflow.Name, workflow.Hash, payload, options, cancellationToken);
        return new WorkflowHandle<TOutput>(this, id, status);
    }

    public async Task<WorkflowHandle> StartAsync(string workflowName, object? input, string? instanceId = null,
        StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        var id = instanceId ?? NewInstanceId();
        InvalidInstanceIdException.ThrowIfInvalid(id);
        var payload = _codec.Encode(input, input?.GetType() ?? typeof(object), $"input of workflow '{workflowName}'");
        var status = await StartCoreAsync(id, workflowName, null, payload, options, cancellationToken);
        return new WorkflowHandle(this, id, status);
    }

    private Task<WorkflowStatus> StartCoreAsync(string instanceId, string workflowName, string? hash, byte[] payload, StartOptions? options,
        CancellationToken cancellationToken) =>
        Unwrapped(Run(instanceId).StartAsync(new StartRequest
        {
            WorkflowName = workflowName,
            DefinitionHash = hash,
            Input = payload,
            OnConflict = options?.OnConflict ?? ConflictPolicy.Fail,
            Version = options?.Version,
            Metadata = options?.Metadata?.ToDictionary(),
            TraceParent = System.Diagnostics.Activity.Current?.Id,
        })).WaitAsync(cancellationToken);

    public Task<WorkflowStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        return Unwrapped(Run(instanceId).GetStatusAsync()).WaitAsync(cancellationToken);
    }

    public async Task<TOutput> WaitForResultAsync<TOutput>(string instanceId, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        var run = Run(instanceId);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WorkflowStatus status;
            try
            {
                // The local deadline matters when the silo holding the poll dies: Orleans would only fail the call at
                // its response timeout (30 s by default), long after the run has moved on to a surviving silo.
                status = await Unwrapped(run.WaitAsync(_pollWindow)).WaitAsync(_pollWindow + PollGrace, TimeProvider.System, cancellationToken); // wall clock: a call deadline
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                // A silo went away mid-poll; the run continues elsewhere, so poll again.
                await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, cancellationToken); // wall clock: waits for a silo, not for the run
                continue;
            }
            switch (status.State)
            {
                case WorkflowState.NotFound:
                    throw new WorkflowRunNotFoundException(instanceId);
                case WorkflowState.Completed:
                    return (TOutput)_codec.Decode(status.OutputPayload ?? [], typeof(TOutput), $"output of run '{instanceId}'")!;
                case WorkflowState.Failed:
                    throw status.CompensationFailures is { Count: > 0 } undoFailures
                        ? new WorkflowFailedException(instanceId, status.Failure!, undoFailures)
                        : new WorkflowFailedException(instanceId, status.Failure!);
                case WorkflowState.Compensated:
                    throw new WorkflowCompensatedException(instanceId, status.Failure, status.Cancellation);
                case WorkflowState.Cancelled:
                    throw new WorkflowCancelledException(instanceId, status.Cancellation!);
            }
        }
    }

    public async Task<T> GetTaskResultAsync<T>(string instanceId, string taskId, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(taskId);
        // No run, or no output yet: the grain answers with WorkflowRunNotFoundException or TaskResultNotFoundException.
        var reply = await Unwrapped(Run(instanceId).GetTaskResultAsync(taskId)).WaitAsync(cancellationToken);
        return (T)_codec.Decode(reply.Payload, typeof(T), $"output of task '{taskId}'")!;
    }

    public Task<WorkflowStatus> ResumeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        return Unwrapped(Run(instanceId).ResumeAsync()).WaitAsync(cancellationToken);
    }

    public Task<WorkflowStatus> CancelAsync(string instanceId, string? reason = null, string? by = null, bool compensate = false, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        var run = Run(instanceId);
        return Unwrapped(compensate ? run.CancelAndCompensateAsync(reason, by) : run.CancelAsync(reason, by)).WaitAsync(cancellationToken);
    }

    public Task<WorkflowStatus> PauseAsync(string instanceId, string? reason = null, string? by = null, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        return Unwrapped(Run(instanceId).PauseAsync(reason, by)).WaitAsync(cancellationToken);
    }

    public Task<WorkflowStatus> UnpauseAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        return Unwrapped(Run(instanceId).UnpauseAsync()).WaitAsync(cancellationToken);
    }

    public Task<WorkflowStatus> RewindAsync(string instanceId, string beforeStep, string? reason = null, string? by = null, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(beforeStep);
        return Unwrapped(Run(instanceId).RewindAsync(beforeStep, reason, by)).WaitAsync(cancellationToken);
    }

    public Task SignalAsync<T>(string instanceId, string signalName, T payload, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(signalName);
        var bytes = _codec.Encode(payload, typeof(T), $"payload of signal '{signalName}'");
        return Unwrapped(Run(instanceId).SignalAsync(signalName, bytes)).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RunHistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        return await Unwrapped(Run(instanceId).GetHistoryAsync()).WaitAsync(cancellationToken);
    }

    public async Task<long> PurgeRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        if (query.ContinuationToken is not null)
            throw new ArgumentException("PurgeRunsAsync works through every matching run itself: the query must not carry a continuation token.", nameof(query));
        WorkflowState[] ended = [WorkflowState.Completed, WorkflowState.Failed, WorkflowState.Cancelled, WorkflowState.Compensated];
        var states = query.States is { Count: > 0 } asked ? ended.Where(asked.Contains).ToArray() : ended;
        if (states.Length == 0) return 0;
        var step = query with { States = states };
        var purged = 0L;
        // One listing page per call: each call stays short, and purged runs leave the keyset behind the token.
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await _grains.GetGrain<IRunQueryGrain>(0).PurgePageAsync(step).WaitAsync(cancellationToken);
            purged += result.Purged;
            step = step with { ContinuationToken = result.ContinuationToken };
        }
        while (step.ContinuationToken is not null);
        return purged;
    }

    public Task<WorkflowGraph> GetWorkflowGraphAsync(string workflowName, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        return _grains.GetGrain<IRunQueryGrain>(0).GraphAsync(workflowName, version).WaitAsync(cancellationToken);
    }

    public Task<WorkflowStatus> UpgradeAsync(string instanceId, string? toVersion = null, CancellationToken cancellationToken = default)
    {
        InvalidInstanceIdException.ThrowIfInvalid(instanceId);
        return Unwrapped(Run(instanceId).UpgradeAsync(toVersion)).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<WorkflowVersionInfo>> GetWorkflowVersionsAsync(string? workflowName = null, CancellationToken cancellationToken = default) =>
        await _grains.GetGrain<IRunQueryGrain>(0).VersionsAsync(workflowName).WaitAsync(cancellationToken);

    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return _grains.GetGrain<IRunQueryGrain>(0).ListAsync(query).WaitAsync(cancellationToken);
    }

    public Task<RunCounts> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return _grains.GetGrain<IRunQueryGrain>(0).CountAsync(query).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RunActivityBucket>> GetRunActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return await _grains.GetGrain<IRunQueryGrain>(0).ActivityAsync(query).WaitAsync(cancellationToken);
    }

    // Resolving a reference by interface type costs a type lookup per call; resolve the run grain's types once.
    // wall clock: a call deadline for each silo's figures.
    private static readonly TimeSpan SiloLoadTimeout = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<SiloInfo>> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        var hosts = await _grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(false, cancellationToken);
        var live = hosts.Where(h => h.Status is not (SiloStatus.Dead or SiloStatus.None)).OrderBy(h => h.SiloAddress.ToParsableString(), StringComparer.Ordinal).ToList();
        var loads = await Task.WhenAll(live.Select(h => LoadOfAsync(h, cancellationToken)));
        return [.. live.Zip(loads, (host, load) => new SiloInfo
        {
            Address = host.SiloAddress.ToParsableString(),
            Name = host.SiloName,
            HostName = host.HostName,
            Status = host.Status.ToString(),
            StartedAt = host.StartTime == default ? null : new DateTimeOffset(DateTime.SpecifyKind(host.StartTime, DateTimeKind.Utc)),
            ActiveRuns = load?.ActiveRuns,
            AttemptsInFlight = load?.AttemptsInFlight,
        })];
    }

    private async Task<SiloLoad?> LoadOfAsync(MembershipEntry host, CancellationToken cancellationToken)
    {
        if (host.Status != SiloStatus.Active) return null;
        try
        {
            return await _grains.GetGrain<ISiloLoadGrain>(host.SiloAddress.ToParsableString()).GetLoadAsync()
                .WaitAsync(SiloLoadTimeout, TimeProvider.System, cancellationToken); // wall clock: a call deadline
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Unreachable, stopping or just gone: shown without figures.
            return null;
        }
    }

    // Orleans reports a failure of the storage provider while it activates a grain as an OrleansException around the
    // provider's exception. For run grains that inner exception is already a Sayiir type (TypedErrorGrainStorage): the
    // caller receives it directly, as every other error of this client. (Done here rather than by an outgoing call
    // filter: any such filter takes every grain call of the process off Orleans' fast path.)
    private static async Task<T> Unwrapped<T>(Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (OrleansException ex) when (ex.InnerException is SayiirException inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }

    private static async Task Unwrapped(Task call)
    {
        try
        {
            await call;
        }
        catch (OrleansException ex) when (ex.InnerException is SayiirException inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
        }
    }

    private IWorkflowGrain Run(string instanceId)
    {
        var (grainType, interfaceType) = _runGrainTypes ??= ResolveRunGrainTypes();
        return (IWorkflowGrain)_grains.GetGrain(GrainId.Create(grainType, instanceId), interfaceType);
    }

    private (GrainType, GrainInterfaceType) ResolveRunGrainTypes()
    {
        var reference = (GrainReference)_grains.GetGrain<IWorkflowGrain>("-");
        return (reference.GrainId.Type, reference.InterfaceType);
    }

    private static string NewInstanceId() => Guid.NewGuid().ToString("n");

    private static bool IsTransient(Exception ex) =>
        ex is TimeoutException or SiloUnavailableException or ConnectionFailedException or OrleansMessageRejectionException;
}
