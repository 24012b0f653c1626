using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Compensation (sagas): event ids 3110–3119.
internal static partial class Log
{
    [LoggerMessage(3110, LogLevel.Warning, "Run {InstanceId} compensates: {Cause}; {Count} completed step(s) to undo")]
    public static partial void CompensationStarted(ILogger logger, string instanceId, string cause, int count);

    [LoggerMessage(3111, LogLevel.Information, "Run {InstanceId}: task {TaskId} undone (attempt {Attempt})")]
    public static partial void TaskCompensated(ILogger logger, string instanceId, string taskId, int attempt);

    [LoggerMessage(3112, LogLevel.Warning, "Run {InstanceId}: undo of task {TaskId} failed (attempt {Attempt}), next attempt at {NextAttemptAt:o}: {Message}")]
    public static partial void CompensationRetryScheduled(ILogger logger, string instanceId, string taskId, int attempt, DateTimeOffset nextAttemptAt, string message);

    [LoggerMessage(3113, LogLevel.Error, "Run {InstanceId}: undo of task {TaskId} failed for good after {Attempt} attempt(s): {ErrorType}: {Message}")]
    public static partial void CompensationTaskFailed(ILogger logger, string instanceId, string taskId, int attempt, string errorType, string message);

    [LoggerMessage(3114, LogLevel.Information, "Run {InstanceId} compensated: every completed step was undone")]
    public static partial void RunCompensated(ILogger logger, string instanceId);

    [LoggerMessage(3115, LogLevel.Error, "Run {InstanceId} failed while compensating: the undo of {TaskIds} failed")]
    public static partial void CompensationFailed(ILogger logger, string instanceId, string taskIds);

    [LoggerMessage(3116, LogLevel.Information, "Run {InstanceId}: task {TaskId} completed after the run stopped; it is undone with the others")]
    public static partial void LateCompletionKept(ILogger logger, string instanceId, string taskId);
}
