using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sayiir.Testing;

// Tasks blocked until their own timeout: a run that keeps running the same attempt(s) with a TaskTimeoutAt for the
// grace counts as settled, due at that instant (the worker's timeout timer runs on the virtual clock).
public sealed partial class SayiirTestEnvironment
{
    private readonly TimeSpan _blockedTaskGrace;

    // Since when (wall-clock timestamp) each run has been seen running the same attempt(s) with a timeout.
    private readonly ConcurrentDictionary<string, RunningSince> _runningSince = new(StringComparer.Ordinal);

    // Whether a Running run is taken to be blocked until its task's timeout: one still ahead, and the same attempt(s)
    // seen running for the grace.
    private bool IsBlocked(WorkflowStatus status, DateTimeOffset now)
    {
        if (status.TaskTimeoutAt is not { } timeoutAt || timeoutAt <= now) return false;
        var seen = _runningSince.AddOrUpdate(status.InstanceId,
            static (_, s) => RunningSince.Of(s),
            static (_, earlier, s) => earlier.TimeoutAt == s.TaskTimeoutAt && string.Equals(earlier.Tasks, s.CurrentTaskId, StringComparison.Ordinal) ? earlier : RunningSince.Of(s),
            status);
        // wall clock: the grace is real time given to a task to end by itself.
        return Stopwatch.GetElapsedTime(seen.Since) >= _blockedTaskGrace;
    }

    // Drops the runs no longer running, so a later attempt starts its own grace.
    private void ForgetRunningSince(List<WorkflowStatus> statuses)
    {
        var running = statuses.Where(s => s.State == WorkflowState.Running).Select(s => s.InstanceId).ToHashSet(StringComparer.Ordinal);
        foreach (var id in _runningSince.Keys)
        {
            if (!running.Contains(id)) _runningSince.TryRemove(id, out _);
        }
    }

    private sealed record RunningSince(DateTimeOffset? TimeoutAt, string? Tasks, long Since)
    {
        // wall clock: when the attempt was first seen running.
        public static RunningSince Of(WorkflowStatus status) => new(status.TaskTimeoutAt, status.CurrentTaskId, Stopwatch.GetTimestamp());
    }
}
