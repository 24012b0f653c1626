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

    /// <summary>The unknown workflow name.</summary>
    [Id(0)] public string WorkflowName { get; }
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

/// <summary>The operation is not allowed in the run's current state (cancel a completed run, signal a terminal run, ...).</summary>
[GenerateSerializer, Alias("sayiir.InvalidRunStateException")]
public sealed class InvalidRunStateException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRunStateException(string instanceId, string operation, WorkflowState state)
        : base($"Cannot {operation} run '{instanceId}': it is {state}.")
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

/// <summary>The run failed: <see cref="Failure"/> carries the failing task, attempt and error.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowFailedException")]
public sealed class WorkflowFailedException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public WorkflowFailedException(string instanceId, TaskFailure failure)
        : base($"Run '{instanceId}' failed in task '{failure.TaskId}' after {failure.Attempt} attempt(s): {failure.ErrorType}: {failure.Message}")
    {
        InstanceId = instanceId;
        Failure = failure;
    }

    /// <summary>The instance id.</summary>
    [Id(0)] public string InstanceId { get; }

    /// <summary>The failure details.</summary>
    [Id(1)] public TaskFailure Failure { get; }
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

/// <summary>A task attempt exceeded its timeout. Counts as a failed attempt.</summary>
[GenerateSerializer, Alias("sayiir.TaskTimeoutException")]
public sealed class TaskTimeoutException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public TaskTimeoutException(string taskId, TimeSpan timeout)
        : base($"Task '{taskId}' did not complete within its timeout of {timeout}.") => Timeout = timeout;

    /// <summary>The timeout that elapsed.</summary>
    [Id(0)] public TimeSpan Timeout { get; }
}

/// <summary>A wait for a signal timed out and the flow gave no default value.</summary>
[GenerateSerializer, Alias("sayiir.SignalTimeoutException")]
public sealed class SignalTimeoutException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public SignalTimeoutException(string signalName, TimeSpan timeout)
        : base($"Signal '{signalName}' did not arrive within {timeout}.") => SignalName = signalName;

    /// <summary>The awaited signal.</summary>
    [Id(0)] public string SignalName { get; }
}

/// <summary>A loop reached its iteration limit with <see cref="LoopExhaustion.Fail"/>.</summary>
[GenerateSerializer, Alias("sayiir.LoopLimitExceededException")]
public sealed class LoopLimitExceededException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public LoopLimitExceededException(string loopId, int maxIterations)
        : base($"Loop '{loopId}' reached its limit of {maxIterations} iteration(s) without finishing.") { }
}

/// <summary>A route's key matched no branch and the route has no default.</summary>
[GenerateSerializer, Alias("sayiir.NoRouteBranchException")]
public sealed class NoRouteBranchException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public NoRouteBranchException(string routeId, string key)
        : base($"Route '{routeId}': no branch for key '{key}' and no default branch.") => Key = key;

    /// <summary>The unmatched key.</summary>
    [Id(0)] public string Key { get; }
}
