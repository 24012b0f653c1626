namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// Three versions of one workflow. v1 and v2 share their first steps (prepare, then a wait for "go") and differ in
/// their last task, so a run parked on the signal can move from v1 to v2; v3 inserts a step before "prepare", so a
/// run that has prepared cannot.
/// </summary>
public static class VersionFlows
{
    public const string Name = "versioned_order";

    public static readonly WorkflowDefinition<string, string> V1 = Flow.Create<string>(Name, version: 1)
        .Then("prepare", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|prepared"); })
        .WaitForSignal<string>("wait_go", "go")
        .Then("finish_v1", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(go + "|v1"); })
        .Build();

    public static readonly WorkflowDefinition<string, string> V2 = Flow.Create<string>(Name, version: 2)
        .Then("prepare", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|prepared"); })
        .WaitForSignal<string>("wait_go", "go")
        .Then("finish_v2", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(go + "|v2"); })
        .Build();

    public static readonly WorkflowDefinition<string, string> V3 = Flow.Create<string>(Name, version: 3)
        .Then("validate", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s); })
        .Then("prepare", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|prepared"); })
        .WaitForSignal<string>("wait_go", "go")
        .Then("finish_v3", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(go + "|v3"); })
        .Build();

    public const string HeldName = "versioned_held";

    /// <summary>A task held by the test (<see cref="Probe.HoldAsync"/>), in two compatible versions.</summary>
    public static readonly WorkflowDefinition<string, string> HeldV1 = Flow.Create<string>(HeldName, version: 1)
        .Then("hold", async (string s, TaskContext ctx) => { await Probe.HoldAsync(ctx); return s + "|v1"; })
        .Build();

    public static readonly WorkflowDefinition<string, string> HeldV2 = Flow.Create<string>(HeldName, version: 2)
        .Then("hold", async (string s, TaskContext ctx) => { await Probe.HoldAsync(ctx); return s + "|v2"; })
        .Build();
}
