using System.Text.Json;

namespace Sayiir.Dashboard;

// The API's response and request shapes (internal: the HTTP contract is the JSON and its OpenAPI document).

internal sealed record DashboardConfig(bool ReadOnly, bool ActionsAllowed, string? ActionsRefusal, int RefreshMilliseconds, int PageSize);

/// <param name="Runs">The page, newest first.</param>
/// <param name="ContinuationToken">Pass it as continuationToken for the next page; null on the last page.</param>
/// <param name="Counts">
/// Runs per state over every run matching the other filters (workflow, created range, prefix) — not only this page, and
/// regardless of the state filter, so each state shows how many a click on it would list.
/// </param>
internal sealed record RunListResponse(IReadOnlyList<RunSummary> Runs, string? ContinuationToken, Dictionary<string, long> Counts);

/// <param name="Counts">Runs per state (states without runs are absent).</param>
/// <param name="Total">Runs in all states.</param>
internal sealed record RunCountsResponse(Dictionary<string, long> Counts, long Total)
{
    public static RunCountsResponse From(RunCounts counts) =>
        new(counts.ByState.ToDictionary(c => c.Key.ToString(), c => c.Value), counts.Total);
}

/// <param name="WorkflowName">The workflow (null: all).</param>
/// <param name="From">Start of the window.</param>
/// <param name="To">End of the window.</param>
/// <param name="BucketSeconds">Length of each bucket.</param>
/// <param name="Buckets">One per bucket, oldest first: runs created, and runs that ended completed, failed or cancelled in it.</param>
internal sealed record ActivityResponse(string? WorkflowName, DateTimeOffset From, DateTimeOffset To, double BucketSeconds, IReadOnlyList<RunActivityBucket> Buckets);

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
