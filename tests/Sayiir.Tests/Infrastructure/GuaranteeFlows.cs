using System.Collections.Concurrent;
using System.Globalization;

namespace Sayiir.Tests.Infrastructure;

/// <summary>What a task saw of its identity in one execution: its idempotency key, loop iteration and silo.</summary>
public sealed record SeenKey(string TaskId, int Attempt, string Key, int? LoopIteration, string Silo);

/// <summary>Records, from inside tasks, the idempotency keys and loop iterations they saw, by instance id.</summary>
public static class KeyLog
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<SeenKey>> Seen = new();

    public static void Record(TaskContext context)
    {
        var silo = context.Services.GetService(typeof(Orleans.Runtime.ILocalSiloDetails)) is Orleans.Runtime.ILocalSiloDetails d ? d.SiloAddress.ToString() : "";
        Seen.GetOrAdd(context.InstanceId, _ => new()).Enqueue(new SeenKey(context.TaskId, context.Attempt, context.IdempotencyKey, context.LoopIteration, silo));
    }

    /// <summary>Everything run <paramref name="instanceId"/>'s tasks recorded, in execution order (optionally one task's).</summary>
    public static IReadOnlyList<SeenKey> Of(string instanceId, string? taskId = null) =>
        Seen.TryGetValue(instanceId, out var q) ? [.. q.Where(s => taskId is null || s.TaskId == taskId)] : [];
}

/// <summary>
/// Workflows of the engine-guarantee tests: idempotency keys, loop iterations, history completeness, prompt
/// checkpoints of finished fork branches, and the start-before-wake ordering.
/// </summary>
public static class GuaranteeFlows
{
    /// <summary>Connection strings by instance id, for tasks that look at their own stored row.</summary>
    public static readonly ConcurrentDictionary<string, string> Stores = new();

    /// <summary>Fails attempts 1 and 2, succeeds on 3; records its key on each attempt and returns it.</summary>
    public static readonly WorkflowDefinition<int, string> KeyedFlaky = Flow.Create<int>("guard_keyed_flaky")
        .Then("flaky_keyed", (int x, TaskContext ctx) =>
        {
            KeyLog.Record(ctx);
            return ctx.Attempt < 3
                ? Task.FromException<string>(new TimeoutException($"transient failure {ctx.Attempt}"))
                : Task.FromResult(ctx.IdempotencyKey);
        }, o => o.Retry = RetryPolicy.Fixed(3, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>A task before, a loop of <c>input</c> iterations (one keyed task each), and a task after.</summary>
    public static readonly WorkflowDefinition<int, int> KeyedLoop = Flow.Create<int>("guard_keyed_loop")
        .Then("before_loop", (int x, TaskContext ctx) => { KeyLog.Record(ctx); return Task.FromResult(x); })
        .Loop("keyed_loop", body => body.Then("iterate", (int remaining, TaskContext ctx) =>
        {
            KeyLog.Record(ctx);
            return Task.FromResult(remaining > 1 ? LoopOutcome.Again(remaining - 1) : LoopOutcome.Done(0));
        }), maxIterations: 10)
        .Then("after_loop", (int x, TaskContext ctx) => { KeyLog.Record(ctx); return Task.FromResult(x); })
        .Build();

    /// <summary>One keyed task.</summary>
    public static readonly WorkflowDefinition<int, string> KeyedOnce = Flow.Create<int>("guard_keyed_once")
        .Then("keyed", (int x, TaskContext ctx) => { KeyLog.Record(ctx); return Task.FromResult(ctx.IdempotencyKey); })
        .Build();

    /// <summary>A keyed task, then a wait for signal "go" (its payload is the output).</summary>
    public static readonly WorkflowDefinition<int, string> KeyedThenSignal = Flow.Create<int>("guard_keyed_then_signal")
        .Then("keyed", (int x, TaskContext ctx) => { KeyLog.Record(ctx); return Task.FromResult(x); })
        .WaitForSignal<string>("wait_go", "go")
        .Build();

    /// <summary>A keyed task whose first execution hangs until cancelled (crash tests); later executions return its key.</summary>
    public static readonly WorkflowDefinition<int, string> KeyedStuckOnce = Flow.Create<int>("guard_keyed_stuck_once")
        .Then("prepare", (int x) => x)
        .Then("stuck_keyed", async (int x, TaskContext ctx) =>
        {
            var execution = Probe.Hit(ctx);
            KeyLog.Record(ctx);
            if (execution == 1) await Probe.HoldAsync(ctx);
            return ctx.IdempotencyKey;
        })
        .Build();

    /// <summary>
    /// Fork: branch "napping" (task, 300 ms delay, task) and branch "waiting" (signal "go", task); join sums:
    /// input 1, signal 5 → 2 + 50 = 52.
    /// </summary>
    public static readonly WorkflowDefinition<int, int> ForkDelaySignal = Flow.Create<int>("guard_fork_delay_signal")
        .Then("first", (int x) => x)
        .Fork("split", f => f
            .Branch("napping", b => b
                .Then("pre_nap", (int x) => x)
                .Delay("nap", TimeSpan.FromMilliseconds(300))
                .Then("post_nap", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); }))
            .Branch("waiting", b => b
                .WaitForSignal<int>("wait_go", "go")
                .Then("after_go", (int x) => x * 10)))
        .Join("join", (BranchResults r) => r.Get<int>("napping") + r.Get<int>("waiting"))
        .Build();

    /// <summary>Fork: branch "quick" runs task "fast" (input + 1); branch "slow" waits for signal "go"; join sums.</summary>
    public static readonly WorkflowDefinition<int, int> ForkFastAndSignal = Flow.Create<int>("guard_fork_fast_signal")
        .Fork("split", f => f
            .Branch("quick", b => b.Then("fast", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); }))
            .Branch("slow", b => b.WaitForSignal<int>("wait_go", "go")))
        .Join("join", (BranchResults r) => r.Get<int>("quick") + r.Get<int>("slow"))
        .Build();

    /// <summary>Task "first" records how many stored rows its run has (if the test registered a store for it), then doubles.</summary>
    public static readonly WorkflowDefinition<int, int> RowCheck = Flow.Create<int>("guard_row_check")
        .Then("first", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            if (Stores.TryGetValue(ctx.InstanceId, out var store))
                Probe.Record(ctx, "rows=" + (await StoredRuns.CountAsync(store, ctx.InstanceId)).ToString(CultureInfo.InvariantCulture));
            return x + 1;
        })
        .Then("second", (int x) => x * 2)
        .Build();

    public static IEnumerable<WorkflowDefinition> All => [KeyedFlaky, KeyedLoop, KeyedOnce, KeyedThenSignal, KeyedStuckOnce, ForkDelaySignal, ForkFastAndSignal, RowCheck];
}
