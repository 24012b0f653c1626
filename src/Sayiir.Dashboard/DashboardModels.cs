using System.Text.Json;

namespace Sayiir.Dashboard;

// The API's response and request shapes (internal: the HTTP contract is the JSON and its OpenAPI document).

internal sealed record DashboardConfig(bool ReadOnly, bool ActionsAllowed, string? ActionsRefusal, int RefreshMilliseconds, int PageSize);

/// <param name="Runs">The page, newest first.</param>
/// <param name="ContinuationToken">Pass it as continuationToken for the next page; null on the last page.</param>
/// <param name="PageCounts">Runs per state on this page only (the listing has no count API).</param>
internal sealed record RunListResponse(IReadOnlyList<RunSummary> Runs, string? ContinuationToken, Dictionary<string, int> PageCounts);

internal sealed record RunDetailResponse(WorkflowStatus Status, JsonElement? Output, string? OutputError);

internal sealed record StatusResponse(string InstanceId, WorkflowState State, string? WorkflowName, string? WorkflowVersion, WorkflowStatus Status)
{
    public static StatusResponse From(WorkflowStatus status) => new(status.InstanceId, status.State, status.WorkflowName, status.WorkflowVersion, status);
}

internal sealed record HistoryEventResponse(long Sequence, DateTimeOffset At, RunEventKind Kind, string? TaskId, int? Attempt,
    double? DurationMs, string? Detail, string? ErrorType, string? Message, bool Superseded)
{
    public static HistoryEventResponse From(RunHistoryEvent e) =>
        new(e.Sequence, e.At, e.Kind, e.TaskId, e.Attempt, e.Duration?.TotalMilliseconds, e.Detail, e.ErrorType, e.Message, e.Superseded);
}

internal sealed record StartRequest(string Workflow, JsonElement? Input, string? InstanceId, string? Version);

internal sealed record ReasonRequest(string? Reason);

internal sealed record SignalRequest(string Name, JsonElement? Payload);

internal sealed record RewindRequest(string BeforeStep, string? Reason);

internal sealed record UpgradeRequest(string? ToVersion);
