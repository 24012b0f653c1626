namespace Sayiir;

/// <summary>What a running task knows about itself. Passed to every task invocation.</summary>
public sealed class TaskContext
{
    internal TaskContext(string workflowName, string instanceId, string taskId, int attempt,
        IReadOnlyDictionary<string, string> metadata, IServiceProvider services, CancellationToken cancellationToken)
    {
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

    /// <summary>Metadata given when the run was started.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The service scope of this attempt (one scope per attempt).</summary>
    public IServiceProvider Services { get; }

    /// <summary>Fires when the run is cancelled, the attempt times out, or the silo shuts down.</summary>
    public CancellationToken CancellationToken { get; }
}
