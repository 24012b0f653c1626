using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Concurrency limits: event ids 3080-3099 (the gate grain uses 3080-3083).
internal static partial class Log
{
    [LoggerMessage(3084, LogLevel.Information, "Run {InstanceId} queued at concurrency gate {Gate} (task {TaskId})")]
    public static partial void RunQueued(ILogger logger, string instanceId, string gate, string? taskId);

    [LoggerMessage(3085, LogLevel.Information, "Run {InstanceId} got its slot at concurrency gate {Gate} (task {TaskId})")]
    public static partial void RunDequeued(ILogger logger, string instanceId, string gate, string? taskId);

    [LoggerMessage(3086, LogLevel.Warning, "Run {InstanceId} could not give its slot back to concurrency gate {Gate}; the gate reclaims it when someone waits")]
    public static partial void SlotReleaseFailed(ILogger logger, Exception exception, string instanceId, string gate);
}
