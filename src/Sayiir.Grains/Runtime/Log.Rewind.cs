using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Rewind: event ids 3045–3049.
internal static partial class Log
{
    [LoggerMessage(3045, LogLevel.Information, "Run {InstanceId} rewound before {StepId} by {By}: {Reason}; it continues as {State}, superseding {Superseded}")]
    public static partial void RunRewound(ILogger logger, string instanceId, string stepId, string? by, string? reason, WorkflowState state, string superseded);

    [LoggerMessage(3046, LogLevel.Information, "Run {InstanceId}: rewind before {StepId} refused: {Message}")]
    public static partial void RewindRefused(ILogger logger, string instanceId, string stepId, string message);
}
