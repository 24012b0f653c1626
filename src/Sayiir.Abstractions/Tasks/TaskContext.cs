using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sayiir;

/// <summary>What a running task knows about itself. Passed to every task invocation.</summary>
public sealed class TaskContext
{
    internal TaskContext(string workflowName, string instanceId, string taskId, int attempt,
        IReadOnlyDictionary<string, string> metadata, IServiceProvider services, CancellationToken cancellationToken,
        string? idempotencyKey = null, int? loopIteration = null, ILogger? logger = null, bool isCompensation = false)
    {
        IsCompensation = isCompensation;
        Logger = logger ?? NullLogger.Instance;
        IdempotencyKey = string.IsNullOrEmpty(idempotencyKey) ? $"{instanceId}/{taskId}" : idempotencyKey;
        LoopIteration = loopIteration;
        WorkflowName = workflowName;
        InstanceId = instanceId;
        TaskId = taskId;
        Attempt = attempt;
        Metadata = metadata;
        Services = services;
        CancellationToken = cancellationToken;
    }

    /// <summary>The workflow's name.</summary>
    public string WorkflowName { get; }

    /// <summary>The run's instance id.</summary>
    public string InstanceId { get; }

    /// <summary>This task's id within the workflow.</summary>
    public string TaskId { get; }

    /// <summary>The attempt number, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>
    /// A key for making this step's side effects exactly-once downstream: pass it to a payment API's idempotency
    /// header, or use it as a unique key in your own table. It is the same for every attempt (retries) and for every
    /// re-execution of the step after a crash — the one case a checkpointed engine re-runs a task is an attempt that
    /// was in flight on a silo that died — and different for each iteration of an enclosing loop and for each run of
    /// the instance id (a run started again with <c>TerminateExisting</c> gets new keys). A step that
    /// <see cref="ISayiirClient.RewindAsync"/> superseded runs again under a new key (its earlier execution's effect
    /// is not the one wanted any more); steps a rewind did not supersede keep theirs. Its shape
    /// (<c>{instanceId}/{runId}/{loop}#{iteration}/…/{taskId}</c>, then <c>@{n}</c> after a rewind) is informative, not a contract.
    /// </summary>
    public string IdempotencyKey { get; }

    /// <summary>
    /// True when this invocation is the task's undo step (its <c>compensate:</c> delegate or
    /// <see cref="ICompensableTask{TInput, TOutput}.CompensateAsync"/>), run because the run failed or was cancelled
    /// with compensation; task filters see it too.
    /// </summary>
    public bool IsCompensation { get; }

    /// <summary>The iteration (1, 2, …) of the innermost loop this task runs in, or null outside loops.</summary>
    public int? LoopIteration { get; }

    /// <summary>Metadata given when the run was started.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The service scope of this attempt (one scope per attempt).</summary>
    public IServiceProvider Services { get; }

    /// <summary>
    /// A logger for this attempt. What it writes goes to the silo's logging (category
    /// <c>Sayiir.Task.{workflow}.{taskId}</c>, in a scope naming the instance id, task and attempt) and is also kept
    /// with the run: each line at or above <c>SayiirOptions.TaskLogMinimumLevel</c> becomes a
    /// <see cref="RunEventKind.TaskLog"/> event of the run's history, saved with the attempt's outcome. The lines kept
    /// per attempt are bounded (<c>SayiirOptions.TaskLogMaxLines</c>, <c>TaskLogMaxBytes</c>); the lines of an attempt
    /// lost with its silo are lost with it.
    /// </summary>
    public ILogger Logger { get; }

    /// <summary>Fires when the run is cancelled, the attempt times out, or the silo shuts down.</summary>
    public CancellationToken CancellationToken { get; }
}
