namespace Sayiir.Testing;

/// <summary>Assertion helpers over a run's history (from <see cref="SayiirTestEnvironment.HistoryAsync"/> or <see cref="ISayiirClient.GetHistoryAsync"/>).</summary>
public static class RunHistoryExtensions
{
    /// <summary>How many attempts of the task started (each retry counts; a task of a loop counts once per iteration).</summary>
    public static int TaskExecutions(this IEnumerable<RunHistoryEvent> history, string taskId) =>
        Count(history, RunEventKind.TaskStarted, taskId);

    /// <summary>How many attempts of the task failed.</summary>
    public static int TaskFailures(this IEnumerable<RunHistoryEvent> history, string taskId) =>
        Count(history, RunEventKind.TaskFailed, taskId);

    /// <summary>How many attempts of the task completed.</summary>
    public static int TaskCompletions(this IEnumerable<RunHistoryEvent> history, string taskId) =>
        Count(history, RunEventKind.TaskCompleted, taskId);

    /// <summary>The events of one kind, in order; of one task or node when <paramref name="taskId"/> is given.</summary>
    public static IEnumerable<RunHistoryEvent> OfKind(this IEnumerable<RunHistoryEvent> history, RunEventKind kind, string? taskId = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        return history.Where(e => e.Kind == kind && (taskId is null || string.Equals(e.TaskId, taskId, StringComparison.Ordinal)));
    }

    private static int Count(IEnumerable<RunHistoryEvent> history, RunEventKind kind, string taskId)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        return history.OfKind(kind, taskId).Count();
    }
}
