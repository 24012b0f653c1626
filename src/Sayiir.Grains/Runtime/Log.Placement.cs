using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Task placement: event ids 3120-3139 (ClusterPlacement uses 3120-3121).
internal static partial class Log
{
    [LoggerMessage(3122, LogLevel.Information, "Run {InstanceId}: task {TaskId} waits for a live silo with tags {Tags}")]
    public static partial void AwaitingSilo(ILogger logger, string instanceId, string taskId, string tags);

    [LoggerMessage(3123, LogLevel.Information, "Run {InstanceId}: collecting attempt {Attempt} of task {TaskId} from silo {Silo}, where a previous owner of the run sent it")]
    public static partial void RemoteAttemptReattached(ILogger logger, string instanceId, string taskId, int attempt, string silo);

    [LoggerMessage(3124, LogLevel.Warning, "Run {InstanceId}: attempt {Attempt} of task {TaskId} was lost with silo {Silo}; sending it again")]
    public static partial void RemoteAttemptLost(ILogger logger, string instanceId, string taskId, int attempt, string silo);

    [LoggerMessage(3125, LogLevel.Debug, "Run {InstanceId}: silo {Silo} running task {TaskId} did not answer and is not declared dead; asking again")]
    public static partial void RemoteSiloUnreachable(ILogger logger, Exception exception, string instanceId, string taskId, string silo);

    [LoggerMessage(3126, LogLevel.Debug, "Run {InstanceId}: could not tell silo {Silo} about a remote attempt; it drops it after its retention window")]
    public static partial void RemoteForgetFailed(ILogger logger, Exception exception, string instanceId, string silo);
}
