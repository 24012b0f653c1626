namespace Sayiir;

/// <summary>A workflow definition failed validation; <see cref="Errors"/> lists every problem found.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowValidationException")]
public sealed class WorkflowValidationException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowValidationException(string workflowName, IReadOnlyList<string> errors)
        : base($"Workflow '{workflowName}' is invalid:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}")
    {
        WorkflowName = workflowName;
        Errors = errors;
    }

    /// <summary>The workflow's name.</summary>
    [Id(0)] public string WorkflowName { get; }

    /// <summary>Every validation error, in definition order.</summary>
    [Id(1)] public IReadOnlyList<string> Errors { get; }
}

/// <summary>An instance id is empty, too long, or otherwise unusable.</summary>
[GenerateSerializer, Alias("sayiir.InvalidInstanceIdException")]
public sealed class InvalidInstanceIdException : SayiirException
{
    /// <summary>The longest instance id accepted.</summary>
    public const int MaxLength = 256;

    /// <summary>Creates the exception.</summary>
    public InvalidInstanceIdException(string message) : base(message) { }

    /// <summary>Throws if <paramref name="instanceId"/> is not a valid instance id.</summary>
    public static void ThrowIfInvalid(string? instanceId)
    {
        if (string.IsNullOrWhiteSpace(instanceId))
            throw new InvalidInstanceIdException("An instance id must not be empty or whitespace.");
        if (instanceId.Length > MaxLength)
            throw new InvalidInstanceIdException($"An instance id must be at most {MaxLength} characters (got {instanceId.Length}).");
        if (instanceId.Any(char.IsControl))
            throw new InvalidInstanceIdException("An instance id must not contain control characters.");
    }
}

/// <summary>No workflow of that name is registered on the silo that handled the call.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowNotFoundException")]
public sealed class WorkflowNotFoundException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowNotFoundException(string workflowName)
        : base($"No workflow named '{workflowName}' is registered. Register it on every silo with siloBuilder.AddSayiir(s => s.AddWorkflow(...)).")
        => WorkflowName = workflowName;

    /// <summary>Creates the exception for a version of a workflow that is not registered.</summary>
    public WorkflowNotFoundException(string workflowName, string version, IReadOnlyList<string?> registeredVersions)
        : base($"Version {version} of workflow '{workflowName}' is not registered (registered: "
            + (registeredVersions is { Count: > 0 } ? string.Join(", ", registeredVersions.Select(WorkflowVersions.Display)) : "none")
            + "). Register it on every silo with siloBuilder.AddSayiir(s => s.AddWorkflow(...)).")
    {
        WorkflowName = workflowName;
        Version = version;
    }

    /// <summary>The unknown workflow name.</summary>
    [Id(0)] public string WorkflowName { get; }

    /// <summary>The version asked for, when a version was (null: no version of the workflow is registered).</summary>
    [Id(1)] public string? Version { get; }
}

/// <summary>No run with that instance id exists.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowRunNotFoundException")]
public sealed class WorkflowRunNotFoundException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowRunNotFoundException(string instanceId) : base($"No run with instance id '{instanceId}' exists.") => InstanceId = instanceId;

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }
}

/// <summary>A run with that instance id already exists and the conflict policy is <see cref="ConflictPolicy.Fail"/>.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowAlreadyExistsException")]
public sealed class WorkflowAlreadyExistsException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowAlreadyExistsException(string instanceId, WorkflowState state)
        : base($"A run with instance id '{instanceId}' already exists (state {state}). Use ConflictPolicy.UseExisting or ConflictPolicy.TerminateExisting to reuse or replace it.")
    {
        InstanceId = instanceId;
        State = state;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The existing run's state.</summary>
    [Id(1)] public WorkflowState State { get; }
}

/// <summary>The registered definition of a workflow no longer hashes like the one a stored run was started with.</summary>
[GenerateSerializer, Alias("sayiir.DefinitionMismatchException")]
public sealed class DefinitionMismatchException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public DefinitionMismatchException(string instanceId, string workflowName, string storedHash, string currentHash)
        : base($"Run '{instanceId}' of workflow '{workflowName}' was started with definition hash {storedHash}, but the registered definition now hashes to {currentHash}. The stored run was left untouched.")
    {
        InstanceId = instanceId;
        WorkflowName = workflowName;
        StoredHash = storedHash;
        CurrentHash = currentHash;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The workflow name.</summary>
    [Id(1)] public string WorkflowName { get; }

    /// <summary>The hash stored with the run.</summary>
    [Id(2)] public string StoredHash { get; }

    /// <summary>The hash of the definition registered now.</summary>
    [Id(3)] public string CurrentHash { get; }
}

/// <summary>
/// <see cref="ISayiirClient.UpgradeAsync"/> refused: the target version does not have every step the run completed or
/// started, with the same id, kind and position. The run was left untouched.
/// </summary>
[GenerateSerializer, Alias("sayiir.IncompatibleUpgradeException")]
public sealed class IncompatibleUpgradeException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public IncompatibleUpgradeException(string instanceId, string workflowName, string fromHash, string? toVersion, string toHash, IReadOnlyList<string> differences)
        : base($"Run '{instanceId}' of workflow '{workflowName}' (definition {fromHash}) cannot move to version {toVersion ?? "(unversioned)"} ({toHash}): "
            + string.Join("; ", differences ?? []) + ". The run was left untouched.")
    {
        InstanceId = instanceId;
        WorkflowName = workflowName;
        FromHash = fromHash;
        ToVersion = toVersion;
        ToHash = toHash;
        Differences = differences ?? [];
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The workflow name.</summary>
    [Id(1)] public string WorkflowName { get; }

    /// <summary>The hash of the definition the run is on.</summary>
    [Id(2)] public string FromHash { get; }

    /// <summary>The target version label.</summary>
    [Id(3)] public string? ToVersion { get; }

    /// <summary>The target definition's hash.</summary>
    [Id(4)] public string ToHash { get; }

    /// <summary>What differs, one entry per step (for example "step 'charge' (Task at 2) is missing from the target").</summary>
    [Id(5)] public IReadOnlyList<string> Differences { get; }
}

/// <summary>The operation is not allowed in the run's current state (cancel a completed run, signal a terminal run, ...).</summary>
[GenerateSerializer, Alias("sayiir.InvalidRunStateException")]
public sealed class InvalidRunStateException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRunStateException(string instanceId, string operation, WorkflowState state)
        : this(instanceId, operation, state, null) { }

    /// <summary>Creates the exception with a hint of what to do first (appended to the message).</summary>
    public InvalidRunStateException(string instanceId, string operation, WorkflowState state, string? hint)
        : base($"Cannot {operation} run '{instanceId}': it is {state}.{(string.IsNullOrEmpty(hint) ? "" : " " + hint)}")
    {
        InstanceId = instanceId;
        Operation = operation;
        State = state;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The refused operation.</summary>
    [Id(1)] public string Operation { get; }

    /// <summary>The run's state.</summary>
    [Id(2)] public WorkflowState State { get; }
}

/// <summary>
/// <see cref="ISayiirClient.RewindAsync"/> was given a step the run cannot be rewound before: an id the workflow does
/// not have, a step the run has not completed, a fork or child flow (rewind one of its steps), or a step inside a loop
/// body (a loop is rewound as a whole). Nothing was changed. <see cref="ValidSteps"/> lists the steps it can be rewound
/// before, in flow order.
/// </summary>
[GenerateSerializer, Alias("sayiir.InvalidRewindStepException")]
public sealed class InvalidRewindStepException : SayiirException
{
    /// <summary>Creates the exception; <paramref name="reason"/> says why the step was refused.</summary>
    public InvalidRewindStepException(string instanceId, string stepId, IReadOnlyList<string> validSteps, string reason)
        : base($"Cannot rewind run '{instanceId}' before '{stepId}': {reason} "
            + (validSteps is { Count: > 0 } ? $"Steps it can be rewound before, in flow order: {string.Join(", ", validSteps)}." : "It has completed no step it can be rewound before."))
    {
        InstanceId = instanceId;
        StepId = stepId;
        ValidSteps = validSteps ?? [];
    }

    /// <summary>The run's instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The refused step id.</summary>
    [Id(1)] public string StepId { get; }

    /// <summary>The ids of the steps the run can be rewound before, in flow order.</summary>
    [Id(2)] public IReadOnlyList<string> ValidSteps { get; }
}

/// <summary>A value could not be serialized or deserialized by the payload codec.</summary>
[GenerateSerializer, Alias("sayiir.PayloadSerializationException")]
public sealed class PayloadSerializationException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public PayloadSerializationException(string context, Type type, string operation, Exception? innerException)
        : base($"The {context} value of type {type.FullName} could not be {operation}: {innerException?.Message ?? "null is not a valid value"}", innerException)
    {
        Context = context;
        TypeName = type.FullName ?? type.Name;
    }

    /// <summary>What was being encoded or decoded, e.g. "output of task 'fetch_user'".</summary>
    [Id(0)] public string Context { get; }

    /// <summary>The .NET type name.</summary>
    [Id(1)] public string TypeName { get; }
}

/// <summary>
/// A payload (a run's input, a task's output or a signal's payload) is larger, once encoded, than the silo's
/// <c>SayiirOptions.MaxPayloadBytes</c>. Nothing of it was stored: a start or signal is refused as a whole, and a task
/// whose output is too large fails its attempt without a checkpoint (not retried: the same output would be refused again).
/// </summary>
[GenerateSerializer, Alias("sayiir.PayloadTooLargeException")]
public sealed class PayloadTooLargeException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public PayloadTooLargeException(string context, long size, long limit)
        : base(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The {context} is {size:N0} bytes once encoded, over the payload limit of {limit:N0} bytes (SayiirOptions.MaxPayloadBytes)."))
    {
        Context = context;
        Size = size;
        Limit = limit;
    }

    /// <summary>What was too large, e.g. "output of task 'render'" or "payload of signal 'approve'".</summary>
    [Id(0)] public string Context { get; }

    /// <summary>Its encoded size in bytes.</summary>
    [Id(1)] public long Size { get; }

    /// <summary>The limit in bytes.</summary>
    [Id(2)] public long Limit { get; }

    /// <summary>Throws when <paramref name="payload"/> is longer than <paramref name="limit"/> bytes.</summary>
    internal static void ThrowIfTooLarge(byte[]? payload, int limit, string context)
    {
        if (payload is { Length: var size } && size > limit) throw new PayloadTooLargeException(context, size, limit);
    }
}

/// <summary>
/// The run failed: <see cref="Failure"/> carries the failing task (or flow node), the attempt, the error and its chain
/// of inner failures. When the run failed on one of Sayiir's own flow errors (<see cref="LoopLimitExceededException"/>,
/// <see cref="NoRouteBranchException"/>, <see cref="SignalTimeoutException"/>, <see cref="TaskTimeoutException"/>),
/// <see cref="Exception.InnerException"/> is that error, rebuilt with its instance id, node id and details; when a
/// task's own exception failed the run, <see cref="Exception.InnerException"/> is null and <see cref="Failure"/>
/// describes it (use <see cref="TaskFailure.IsCausedBy{T}"/> to test its type chain).
/// </summary>
[GenerateSerializer, Alias("sayiir.WorkflowFailedException")]
public sealed class WorkflowFailedException : SayiirException
{
    /// <summary>Creates the exception; <see cref="Exception.InnerException"/> is rebuilt from <paramref name="failure"/> when it describes a Sayiir flow error.</summary>
    public WorkflowFailedException(string instanceId, TaskFailure failure)
        : base(Describe(instanceId, failure), FlowErrors.Rebuild(instanceId, failure))
    {
        InstanceId = instanceId;
        Failure = failure;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The failure details, with the inner-failure chain.</summary>
    [Id(1)] public TaskFailure Failure { get; }

    /// <summary>
    /// When the run tried to undo its compensable tasks and some undo steps failed for good: those failures (else empty).
    /// </summary>
    [Id(2)] public IReadOnlyList<TaskFailure> CompensationFailures { get; private init; } = [];

    /// <summary>Creates the exception for a run whose compensation failed: <paramref name="compensationFailures"/> are its undo steps' failures.</summary>
    public WorkflowFailedException(string instanceId, TaskFailure failure, IReadOnlyList<TaskFailure> compensationFailures)
        : this(instanceId, failure)
    {
        ArgumentNullException.ThrowIfNull(compensationFailures);
        CompensationFailures = compensationFailures;
    }

    private static string Describe(string instanceId, TaskFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var message = new System.Text.StringBuilder(
            $"Run '{instanceId}' failed in task '{failure.TaskId}' after {failure.Attempt} attempt(s): {failure.ErrorType}: {failure.Message}");
        for (var inner = failure.InnerFailure; inner is not null; inner = inner.InnerFailure)
            message.Append(" ---> ").Append(inner.ErrorType).Append(": ").Append(inner.Message);
        return message.ToString();
    }
}

/// <summary>The awaited run was cancelled.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowCancelledException")]
public sealed class WorkflowCancelledException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowCancelledException(string instanceId, CancellationInfo cancellation)
        : base($"Run '{instanceId}' was cancelled{(cancellation.By is null ? "" : $" by {cancellation.By}")}{(cancellation.Reason is null ? "" : $": {cancellation.Reason}")}.")
    {
        InstanceId = instanceId;
        Cancellation = cancellation;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>Who cancelled, why and when.</summary>
    [Id(1)] public CancellationInfo Cancellation { get; }
}

/// <summary>
/// The awaited run failed or was cancelled with compensation, and every completed compensable task was undone
/// (<see cref="WorkflowState.Compensated"/>).
/// </summary>
[GenerateSerializer, Alias("sayiir.WorkflowCompensatedException")]
public sealed class WorkflowCompensatedException : SayiirException
{
    /// <summary>Creates the exception: <paramref name="failure"/> failed the run, or <paramref name="cancellation"/> cancelled it.</summary>
    public WorkflowCompensatedException(string instanceId, TaskFailure? failure, CancellationInfo? cancellation)
        : base(failure is not null
            ? $"Run '{instanceId}' failed in task '{failure.TaskId}' ({failure.ErrorType}: {failure.Message}) and was compensated: its completed steps were undone."
            : $"Run '{instanceId}' was cancelled{(cancellation?.By is null ? "" : $" by {cancellation.By}")}{(cancellation?.Reason is null ? "" : $": {cancellation.Reason}")} and compensated: its completed steps were undone.")
    {
        InstanceId = instanceId;
        Failure = failure;
        Cancellation = cancellation;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>What failed the run, when a failure caused the compensation.</summary>
    [Id(1)] public TaskFailure? Failure { get; }

    /// <summary>Who cancelled the run with compensation, why and when, when a cancel caused it.</summary>
    [Id(2)] public CancellationInfo? Cancellation { get; }
}

/// <summary>
/// A task attempt exceeded its timeout. Counts as a failed attempt (retried per the task's <see cref="RetryPolicy"/>);
/// when it fails the run, <see cref="WorkflowFailedException"/> carries it as its <see cref="Exception.InnerException"/>.
/// </summary>
[GenerateSerializer, Alias("sayiir.TaskTimeoutException")]
public sealed class TaskTimeoutException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public TaskTimeoutException(string instanceId, string nodeId, TimeSpan timeout)
        : base($"Task '{nodeId}' of run '{instanceId}' did not complete within its timeout of {timeout}.")
    {
        InstanceId = instanceId;
        NodeId = nodeId;
        Timeout = timeout;
    }

    /// <summary>The timeout that elapsed.</summary>
    [Id(0)] public TimeSpan Timeout { get; }

    /// <summary>The run's instance id.</summary>
    [Id(1)] public string InstanceId { get; }

    /// <summary>The task's id.</summary>
    [Id(2)] public string NodeId { get; }

    internal override void DescribeTo(IDictionary<string, string> properties)
    {
        FlowErrors.AddIds(properties, InstanceId, NodeId);
        properties[FlowErrors.TimeoutKey] = FlowErrors.Format(Timeout);
    }
}

/// <summary>
/// A wait for a signal timed out and the flow gave no default value. The run fails;
/// <see cref="WorkflowFailedException"/> carries this error as its <see cref="Exception.InnerException"/>.
/// </summary>
[GenerateSerializer, Alias("sayiir.SignalTimeoutException")]
public sealed class SignalTimeoutException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public SignalTimeoutException(string instanceId, string nodeId, string signalName, TimeSpan timeout)
        : base($"Signal '{signalName}' awaited by node '{nodeId}' of run '{instanceId}' did not arrive within {timeout}.")
    {
        InstanceId = instanceId;
        NodeId = nodeId;
        SignalName = signalName;
        Timeout = timeout;
    }

    /// <summary>The awaited signal.</summary>
    [Id(0)] public string SignalName { get; }

    /// <summary>The run's instance id.</summary>
    [Id(1)] public string InstanceId { get; }

    /// <summary>The id of the node that waited.</summary>
    [Id(2)] public string NodeId { get; }

    /// <summary>The timeout that elapsed.</summary>
    [Id(3)] public TimeSpan Timeout { get; }

    internal override void DescribeTo(IDictionary<string, string> properties)
    {
        FlowErrors.AddIds(properties, InstanceId, NodeId);
        properties[FlowErrors.SignalNameKey] = SignalName;
        properties[FlowErrors.TimeoutKey] = FlowErrors.Format(Timeout);
    }
}

/// <summary>
/// A loop reached its iteration limit with <see cref="LoopExhaustion.Fail"/>. The run fails;
/// <see cref="WorkflowFailedException"/> carries this error as its <see cref="Exception.InnerException"/>.
/// </summary>
[GenerateSerializer, Alias("sayiir.LoopLimitExceededException")]
public sealed class LoopLimitExceededException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public LoopLimitExceededException(string instanceId, string nodeId, int maxIterations)
        : base($"Loop '{nodeId}' of run '{instanceId}' reached its limit of {maxIterations} iteration(s) without finishing.")
    {
        InstanceId = instanceId;
        NodeId = nodeId;
        MaxIterations = maxIterations;
    }

    /// <summary>The run's instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The loop's id.</summary>
    [Id(1)] public string NodeId { get; }

    /// <summary>The loop's iteration limit.</summary>
    [Id(2)] public int MaxIterations { get; }

    internal override void DescribeTo(IDictionary<string, string> properties)
    {
        FlowErrors.AddIds(properties, InstanceId, NodeId);
        properties[FlowErrors.MaxIterationsKey] = MaxIterations.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// A route's key matched no branch and the route has no default. The run fails;
/// <see cref="WorkflowFailedException"/> carries this error as its <see cref="Exception.InnerException"/>.
/// </summary>
[GenerateSerializer, Alias("sayiir.NoRouteBranchException")]
public sealed class NoRouteBranchException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public NoRouteBranchException(string instanceId, string nodeId, string key)
        : base($"Route '{nodeId}' of run '{instanceId}': no branch for key '{key}' and no default branch.")
    {
        InstanceId = instanceId;
        NodeId = nodeId;
        Key = key;
    }

    /// <summary>The unmatched key.</summary>
    [Id(0)] public string Key { get; }

    /// <summary>The run's instance id.</summary>
    [Id(1)] public string InstanceId { get; }

    /// <summary>The route's id.</summary>
    [Id(2)] public string NodeId { get; }

    internal override void DescribeTo(IDictionary<string, string> properties)
    {
        FlowErrors.AddIds(properties, InstanceId, NodeId);
        properties[FlowErrors.KeyKey] = Key;
    }
}

/// <summary>
/// <see cref="ISayiirClient.GetTaskResultAsync{T}"/> found the run but no recorded output for the id: the task (or
/// signal wait, loop, delay or route) has not completed yet, did not complete before the run ended, or the run's
/// workflow has no node with that id. The message says which. A run that does not exist throws
/// <see cref="WorkflowRunNotFoundException"/> instead.
/// </summary>
[GenerateSerializer, Alias("sayiir.TaskResultNotFoundException")]
public sealed class TaskResultNotFoundException : SayiirException
{
    /// <summary>Creates the exception with a message that does not say why there is no output.</summary>
    public TaskResultNotFoundException(string instanceId, string taskId)
        : this(instanceId, taskId, $"Run '{instanceId}' has no recorded output for '{taskId}': it has not completed, or the run has no task or signal wait with that id.") { }

    /// <summary>Creates the exception with a message saying why there is no output.</summary>
    public TaskResultNotFoundException(string instanceId, string taskId, string message) : base(message)
    {
        InstanceId = instanceId;
        TaskId = taskId;
    }

    /// <summary>The run's instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The requested task (or node) id.</summary>
    [Id(1)] public string TaskId { get; }
}

/// <summary>
/// <see cref="BranchResults.Get{T}(string)"/> was asked for a branch the fork does not have (a typo in a join, most
/// likely); <see cref="Branches"/> lists the fork's branches.
/// </summary>
[GenerateSerializer, Alias("sayiir.BranchNotFoundException")]
public sealed class BranchNotFoundException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public BranchNotFoundException(string branchName, IReadOnlyList<string> branches)
        : base($"The fork has no branch named '{branchName}'. Branches: {string.Join(", ", branches ?? [])}.")
    {
        BranchName = branchName;
        Branches = branches ?? [];
    }

    /// <summary>The requested branch name.</summary>
    [Id(0)] public string BranchName { get; }

    /// <summary>The fork's branch names.</summary>
    [Id(1)] public IReadOnlyList<string> Branches { get; }
}

/// <summary>
/// The run was taken over by another activation (normally on another silo, after a membership change) while this
/// request was being handled, so the request was not applied. Calling again reaches the run's new owner.
/// </summary>
[GenerateSerializer, Alias("sayiir.WorkflowRunMovedException")]
public sealed class WorkflowRunMovedException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowRunMovedException(string instanceId, string operation)
        : base($"Run '{instanceId}' was taken over by another activation while '{operation}' was being handled; the request was not applied. Call again: it reaches the run's new owner.")
    {
        InstanceId = instanceId;
        Operation = operation;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The request that was not applied (the client method's name, e.g. <c>Cancel</c>).</summary>
    [Id(1)] public string Operation { get; }
}

/// <summary>
/// Stored data (a run's state, a task output or a history line) was encrypted with a key the silo's key provider does
/// not know (<c>SayiirSiloBuilder.UseEncryption</c>): <see cref="KeyId"/> names it. Nothing is decrypted with another
/// key and nothing is returned in its place; the data stays stored, readable again once the key is configured (it may
/// stay inactive: any known key decrypts, only the active one encrypts).
/// </summary>
[GenerateSerializer, Alias("sayiir.PayloadKeyNotFoundException")]
public sealed class PayloadKeyNotFoundException : SayiirException
{
    /// <summary>Creates the exception for the key <paramref name="keyId"/>.</summary>
    public PayloadKeyNotFoundException(string keyId)
        : base($"Stored data was encrypted with key '{keyId}', which this silo's key provider does not know. Configure the key again " +
               $"(Sayiir:Encryption:Keys:{keyId}; it need not be the active key) to read it.")
    {
        KeyId = keyId;
    }

    /// <summary>The id of the missing key, as written in the stored data's header.</summary>
    [Id(0)] public string KeyId { get; }
}
