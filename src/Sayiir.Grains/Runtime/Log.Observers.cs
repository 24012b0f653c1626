using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Run observers and the webhook notifier: 3055–3064.
internal static partial class Log
{
    [LoggerMessage(3055, LogLevel.Warning, "Run observer {Observer} failed on run {InstanceId} ({State}); the run is not affected")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, string instanceId, WorkflowState state);

    [LoggerMessage(3056, LogLevel.Warning, "Run observer {Observer}'s queue is full ({Capacity} changes): the change of run {InstanceId} to {State} is not reported to it")]
    public static partial void ObserverQueueFull(ILogger logger, string observer, int capacity, string instanceId, WorkflowState state);

    [LoggerMessage(3057, LogLevel.Warning, "Run observers stopped with {Pending} change(s) not reported (the silo is stopping)")]
    public static partial void ObserversStoppedWithPending(ILogger logger, int pending);

    [LoggerMessage(3058, LogLevel.Warning, "Webhook {Url}: POST for run {InstanceId} ({State}) failed on try {Try} of {MaxAttempts} ({Reason}); retrying in {Delay}")]
    public static partial void WebhookRetry(ILogger logger, string url, string instanceId, WorkflowState state, int @try, int maxAttempts, string reason, TimeSpan delay);

    [LoggerMessage(3059, LogLevel.Error, "Webhook {Url}: POST for run {InstanceId} ({State}) given up after {MaxAttempts} tries ({Reason})")]
    public static partial void WebhookGaveUp(ILogger logger, string url, string instanceId, WorkflowState state, int maxAttempts, string reason);

    [LoggerMessage(3060, LogLevel.Debug, "Webhook {Url}: run {InstanceId} ({State}) posted")]
    public static partial void WebhookPosted(ILogger logger, string url, string instanceId, WorkflowState state);
}
