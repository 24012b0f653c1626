using System.Collections.Concurrent;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// Workflows of the rewind tests. Tasks count their executions (<see cref="Probe"/>) and record their idempotency keys
/// (<see cref="KeyLog"/>); per-run flags stand for a bug and its fix.
/// </summary>
public static class RewindFlows
{
    /// <summary>Key-selector executions of <see cref="Routed"/>, by input (the instance id).</summary>
    public static readonly ConcurrentDictionary<string, int> SelectorCalls = new();

    /// <summary>
    /// 1 → +1 → ×2 → +100 (+1000 once the run's "v2" flag is set) → text. Step 4 fails, without retries, while the run's
    /// "broken" flag is set.
    /// </summary>
    public static readonly WorkflowDefinition<int, string> FourSteps = Flow.Create<int>("rewind_four_steps")
        .Then("s1", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); })
        .Then("s2", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x * 2); })
        .Then("s3", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            KeyLog.Record(ctx);
            return Task.FromResult(x + (Probe.IsSet(ctx.InstanceId, "v2") ? 1000 : 100));
        })
        .Then("s4", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            KeyLog.Record(ctx);
            if (Probe.IsSet(ctx.InstanceId, "broken")) throw new InvalidOperationException("step 4 has a bug");
            return Task.FromResult($"result {x}");
        }, o => o.Retry = RetryPolicy.None)
        .Build();

    /// <summary>start → fork (left: l1 → l2, right: r1) → join → after.</summary>
    public static readonly WorkflowDefinition<int, string> Forked = Flow.Create<int>("rewind_fork")
        .Then("start", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x); })
        .Fork("split", f => f
            .Branch("left", b => b
                .Then("l1", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); })
                .Then("l2", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x * (Probe.IsSet(ctx.InstanceId, "v2") ? 100 : 10)); }))
            .Branch("right", b => b
                .Then("r1", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x - 1); })))
        .Join("join", (BranchResults r, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(r.Get<int>("left") + r.Get<int>("right")); })
        .Then("after", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult($"sum {x}"); })
        .Build();

    /// <summary>start → loop (tick: +1 until 3) → delay → finish. Neither the loop's nor the delay's output is archived.</summary>
    public static readonly WorkflowDefinition<int, string> LoopThenDelay = Flow.Create<int>("rewind_loop_delay")
        .Then("start", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x); })
        .Loop("repeat", body => body.Then("tick", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromResult(x + 1 >= 3 ? LoopOutcome.Done(x + 1) : LoopOutcome.Again(x + 1));
        }))
        .Delay("nap", TimeSpan.FromMilliseconds(20))
        .Then("finish", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult($"finished {x}"); })
        .Build();

    /// <summary>prepare (counts its runs into its output) → wait for "go" → finish.</summary>
    public static readonly WorkflowDefinition<string, string> Signalled = Flow.Create<string>("rewind_signal")
        .Then("prepare", (string s, TaskContext ctx) => Task.FromResult($"{s} prepared #{Probe.Hit(ctx)}"))
        .WaitForSignal<string>("wait_go", "go")
        .Then("finish", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult($"go: {go}"); })
        .Build();

    /// <summary>A route on the run's "vip" flag (input: the instance id), then a last step.</summary>
    public static readonly WorkflowDefinition<string, string> Routed = Flow.Create<string>("rewind_route")
        .Route<string>("tier", (string id) =>
        {
            SelectorCalls.AddOrUpdate(id, 1, (_, n) => n + 1);
            return Probe.IsSet(id, "vip") ? "vip" : "regular";
        }, r => r
            .Branch("vip", b => b.Then("vip_desk", (string id, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult("vip"); }))
            .Branch("regular", b => b.Then("regular_desk", (string id, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult("regular"); })))
        .Then("served", (string desk, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult($"served at {desk}"); })
        .Build();

    public static IEnumerable<WorkflowDefinition> All => [FourSteps, Forked, LoopThenDelay, Signalled, Routed];
}
