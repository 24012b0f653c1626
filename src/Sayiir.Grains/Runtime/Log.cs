using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Event ids are stable: 1xxx run transitions, 2xxx task attempts, 3xxx storage and recovery.
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Run {InstanceId} of workflow {WorkflowName} started (definition {DefinitionHash})")]
    public static partial void RunStarted(ILogger logger, string instanceId, string workflowName, string definitionHash);

    [LoggerMessage(1002, LogLevel.Information, "Run {InstanceId} completed")]
    public static partial void RunCompleted(ILogger logger, string instanceId);

    [LoggerMessage(1003, LogLevel.Warning, "Run {InstanceId} failed in {TaskId} after {Attempt} attempt(s): {ErrorType}: {Message}")]
    public static partial void RunFailed(ILogger logger, string instanceId, string taskId, int attempt, string errorType, string message);

    [LoggerMessage(1004, LogLevel.Information, "Run {InstanceId} cancelled by {By}: {Reason}")]
    public static partial void RunCancelled(ILogger logger, string instanceId, string? by, string? reason);

    [LoggerMessage(1005, LogLevel.Information, "Run {InstanceId} resumed from its last checkpoint")]
    public static partial void RunResumed(ILogger logger, string instanceId);

    [LoggerMessage(1006, LogLevel.Information, "Run {InstanceId} paused by {By}: {Reason}")]
    public static partial void RunPaused(ILogger logger, string instanceId, string? by, string? reason);

    [LoggerMessage(1007, LogLevel.Information, "Run {InstanceId} unpaused")]
    public static partial void RunUnpaused(ILogger logger, string instanceId);

    [LoggerMessage(1008, LogLevel.Information, "Run {InstanceId} recovered on activation (state {State})")]
    public static partial void RunRecovered(ILogger logger, string instanceId, WorkflowState state);

    [LoggerMessage(1009, LogLevel.Error, "Run {InstanceId} cannot continue here: workflow {WorkflowName} is not registered on this silo; it stays as it is and continues on a silo that has it")]
    public static partial void WorkflowMissing(ILogger logger, string instanceId, string workflowName);

    [LoggerMessage(3051, LogLevel.Information, "Run {InstanceId} of {WorkflowName} purged: its state, history and listing entry were removed")]
    public static partial void RunPurged(ILogger logger, string instanceId, string workflowName);

    [LoggerMessage(3050, LogLevel.Information, "Run {InstanceId} of {WorkflowName} moved from {From} to {To}")]
    public static partial void RunUpgraded(ILogger logger, string instanceId, string workflowName, string from, string to);

    [LoggerMessage(1010, LogLevel.Error, "Run {InstanceId} cannot continue: it runs on definition {StoredHash} of {WorkflowName}, which is not registered here (the latest registered version hashes to {CurrentHash}); it stays untouched until that definition is registered again or the run is upgraded")]
    public static partial void DefinitionChanged(ILogger logger, string instanceId, string workflowName, string storedHash, string currentHash);

    [LoggerMessage(1011, LogLevel.Error, "Run {InstanceId}: unexpected engine error")]
    public static partial void EngineError(ILogger logger, Exception exception, string instanceId);

    [LoggerMessage(1012, LogLevel.Information, "Run {InstanceId} terminated to start afresh")]
    public static partial void RunTerminated(ILogger logger, string instanceId);

    [LoggerMessage(1013, LogLevel.Warning, "Run {InstanceId} parked: its task attempt was abandoned (silo shutdown or unreachable worker); the recovery reminder resumes it")]
    public static partial void RunParked(ILogger logger, Exception? exception, string instanceId);

    [LoggerMessage(2001, LogLevel.Debug, "Run {InstanceId}: task {TaskId} attempt {Attempt} dispatched")]
    public static partial void TaskDispatched(ILogger logger, string instanceId, string taskId, int attempt);

    [LoggerMessage(2004, LogLevel.Debug, "Run {InstanceId}: task {TaskId} attempt {Attempt} outlived the inline window; waiting for it again")]
    public static partial void TaskPending(ILogger logger, string instanceId, string taskId, int attempt);

    [LoggerMessage(2002, LogLevel.Warning, "Run {InstanceId}: task {TaskId} attempt {Attempt} failed, retry at {NextAttemptAt:o}: {Message}")]
    public static partial void TaskRetryScheduled(ILogger logger, string instanceId, string taskId, int attempt, DateTimeOffset nextAttemptAt, string message);

    [LoggerMessage(3001, LogLevel.Warning, "Run {InstanceId}: state write failed (try {Try}), retrying in {Delay}")]
    public static partial void WriteRetry(ILogger logger, Exception exception, string instanceId, int @try, TimeSpan delay);

    [LoggerMessage(3002, LogLevel.Warning, "Run {InstanceId}: another activation wrote this run (ETag conflict); this activation stops and deactivates")]
    public static partial void LostOwnership(ILogger logger, string instanceId);

    [LoggerMessage(3031, LogLevel.Information, "Run {InstanceId}: its previous owner on silo {Silo} may still finish a task; waiting for it to let go")]
    public static partial void WaitingForOwner(ILogger logger, string instanceId, string silo);

    [LoggerMessage(3032, LogLevel.Information, "Run {InstanceId}: the previous owner let go; continuing here")]
    public static partial void OwnerGone(ILogger logger, string instanceId);

    [LoggerMessage(3033, LogLevel.Information, "Run {InstanceId}: handing over ({Reason}); waiting up to {Window} for {Count} attempt(s) in flight")]
    public static partial void HandingOff(ILogger logger, string instanceId, string reason, TimeSpan window, int count);

    [LoggerMessage(3034, LogLevel.Warning, "Run {InstanceId}: {Count} attempt(s) still running at the end of the hand-off window; they run again where the run continues")]
    public static partial void HandoffExpired(ILogger logger, string instanceId, int count);

    [LoggerMessage(3035, LogLevel.Warning, "Run {InstanceId}: could not save the hand-off; the next owner continues from the last checkpoint")]
    public static partial void HandoffWriteFailed(ILogger logger, Exception exception, string instanceId);

    [LoggerMessage(3036, LogLevel.Warning, "Run {InstanceId}: the recovery reminder is not registered after {Wait}; the run is saved and registration goes on in the background")]
    public static partial void ReminderDeferred(ILogger logger, string instanceId, TimeSpan wait);

    [LoggerMessage(3003, LogLevel.Warning, "Run {InstanceId}: recovery reminder operation failed")]
    public static partial void ReminderFailed(ILogger logger, Exception exception, string instanceId);

    [LoggerMessage(3004, LogLevel.Information, "Installing the Sayiir PostgreSQL schema ({Parts}) on {Target}")]
    public static partial void InstallingSchema(ILogger logger, string parts, string target);

    [LoggerMessage(3005, LogLevel.Information, "Sayiir PostgreSQL schema on {Target} recorded version(s) {Versions}; latest known: {Latest}")]
    public static partial void SchemaMigrated(ILogger logger, string target, string versions, int latest);

}
