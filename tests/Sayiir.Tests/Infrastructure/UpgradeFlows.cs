namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// The workflows of the upgrade fixture (Postgres/Fixtures/previous-version.sql): runs of these definitions were
/// written by the previous landed version and are continued by the current one in PostgresUpgradeTests.
/// DO NOT CHANGE these definitions (ids, kinds, order, options, signal names, delays): the definition hash is stored
/// with every run, and a changed hash leaves the fixture's runs untouched (DefinitionMismatchException). Delegate
/// bodies are not hashed, but the upgrade test relies on what they return and count.
/// </summary>
public static class UpgradeFlows
{
    /// <summary>The service id the fixture's runs were written under (rows are keyed by it).</summary>
    public const string FixtureServiceId = "sayiir-upgrade-fixture";

    /// <summary>The run flag that makes "check" fail; set only by the fixture generator's process.</summary>
    public const string FailCheckFlag = "fail_check";

    /// <summary>prepare → check (fails while the run's <see cref="FailCheckFlag"/> is set) → wait "approve" → wait "confirm" → finish.</summary>
    public static readonly WorkflowDefinition<string, string> Approval = Flow.Create<string>("upgrade_approval")
        .Then("prepare", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|prepared"); })
        .Then("check", (string s, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            if (Probe.IsSet(ctx.InstanceId, FailCheckFlag)) throw new InvalidOperationException($"check refused {s}");
            return Task.FromResult(s + "|checked");
        })
        .WaitForSignal<string>("wait_approve", "approve")
        .Then("approved", (string approver, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult("approved by " + approver); })
        .WaitForSignal<string>("wait_confirm", "confirm")
        .Then("finish", (string confirmer, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult("confirmed by " + confirmer); })
        .Build();

    /// <summary>before_nap → a 100-year delay (still waiting whenever the upgrade test runs) → after_nap.</summary>
    public static readonly WorkflowDefinition<string, string> LongNap = Flow.Create<string>("upgrade_long_nap")
        .Then("before_nap", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|tired"); })
        .Delay("nap", TimeSpan.FromDays(36500))
        .Then("after_nap", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|rested"); })
        .Build();

    /// <summary>before_nap → a 30 s delay (its wake instant passes while the fixture sits in the repository) → after_nap.</summary>
    public static readonly WorkflowDefinition<string, string> ShortNap = Flow.Create<string>("upgrade_short_nap")
        .Then("before_nap", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|tired"); })
        .Delay("nap", TimeSpan.FromSeconds(30))
        .Then("after_nap", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|rested"); })
        .Build();

    /// <summary>Fork: branch "fast" finishes at once; branch "gated" runs a slower task, waits for "release", runs another; join.</summary>
    public static readonly WorkflowDefinition<int, string> Fork = Flow.Create<int>("upgrade_fork")
        .Fork("split", f => f
            .Branch("fast", b => b.Then("fast_task", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); }))
            .Branch("gated", b => b
                .Then("gated_before", async (int x, TaskContext ctx) =>
                {
                    // Slower than fast_task, so the checkpoint written when this branch parks includes fast_task
                    // (a branch that finishes while its sibling is parked is only checkpointed by the next write).
                    Probe.Hit(ctx);
                    await Task.Delay(500, ctx.CancellationToken);
                    return x * 10;
                })
                .WaitForSignal<int>("wait_release", "release")
                .Then("gated_after", (int y, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(y + 1000); })))
        .Join("join", (BranchResults r, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromResult($"fast={r.Get<int>("fast")} gated={r.Get<int>("gated")}");
        })
        .Build();

    public static IEnumerable<WorkflowDefinition> All => [Approval, LongNap, ShortNap, Fork];
}
