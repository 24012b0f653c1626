using System.Collections.Concurrent;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// What test tasks did, observed from the test: execution counts, attempt times, gates that hold a task until the
/// test releases it, and signals that a task has started. Keys include the instance id, so tests never collide.
/// </summary>
public static class Probe
{
    private static readonly ConcurrentDictionary<string, int> Counts = new();
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<(int Attempt, DateTimeOffset At, string What)>> Events = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Started = new();
    private static readonly ConcurrentDictionary<string, bool> Flags = new();
    private static readonly ChangeSignal Changed = new();

    private static string Key(string instanceId, string name) => $"{instanceId}/{name}";

    public static int Hit(TaskContext context)
    {
        var count = Counts.AddOrUpdate(Key(context.InstanceId, context.TaskId), 1, (_, n) => n + 1);
        Changed.Notify();
        return count;
    }

    public static int Executions(string instanceId, string taskId) => Counts.GetValueOrDefault(Key(instanceId, taskId));

    public static void Record(TaskContext context, string what)
    {
        Events.GetOrAdd(Key(context.InstanceId, context.TaskId), _ => new()).Enqueue((context.Attempt, DateTimeOffset.UtcNow, what));
        Changed.Notify();
    }

    /// <summary>
    /// Returns once <paramref name="condition"/> over what tasks hit and recorded holds (re-checked on every hit and
    /// record, not polled); throws a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.
    /// </summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => Changed.UntilAsync(condition, timeout, what);

    /// <summary>Returns once task <paramref name="taskId"/> of run <paramref name="instanceId"/> has been hit <paramref name="count"/> times or more.</summary>
    public static Task ExecutedAsync(string instanceId, string taskId, int count, TimeSpan timeout) =>
        UntilAsync(() => Executions(instanceId, taskId) >= count, timeout, $"task '{taskId}' of run '{instanceId}' to run {count} time(s)");

    public static IReadOnlyList<(int Attempt, DateTimeOffset At, string What)> EventsOf(string instanceId, string taskId) =>
        Events.TryGetValue(Key(instanceId, taskId), out var q) ? [.. q] : [];

    /// <summary>Marks the task started (observable with <see cref="WaitStartedAsync"/>) and waits until the test opens its gate.</summary>
    public static async Task HoldAsync(TaskContext context)
    {
        Started.GetOrAdd(Key(context.InstanceId, context.TaskId), _ => NewTcs()).TrySetResult();
        var gate = Gates.GetOrAdd(Key(context.InstanceId, context.TaskId), _ => NewTcs());
        await gate.Task.WaitAsync(context.CancellationToken);
    }

    public static Task WaitStartedAsync(string instanceId, string taskId, TimeSpan timeout) =>
        Wait.ForAsync(Started.GetOrAdd(Key(instanceId, taskId), _ => NewTcs()).Task, timeout, $"task '{taskId}' of run '{instanceId}' to start");

    public static void Open(string instanceId, string taskId) => Gates.GetOrAdd(Key(instanceId, taskId), _ => NewTcs()).TrySetResult();

    public static void Set(string instanceId, string flag, bool value = true) => Flags[Key(instanceId, flag)] = value;

    public static bool IsSet(string instanceId, string flag) => Flags.GetValueOrDefault(Key(instanceId, flag));

    private static TaskCompletionSource NewTcs() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
