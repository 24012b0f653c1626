namespace Sayiir.Tests.Infrastructure;

/// <summary>Workflows used only by the observability tests, so their metrics and listings are not mixed with others'.</summary>
public static class ObservabilityFlows
{
    /// <summary>Parks on signal "finish", then completes with the payload (listing tests).</summary>
    public static readonly WorkflowDefinition<int, int> Listed = Flow.Create<int>("obs_listed")
        .WaitForSignal<int>("wait_finish", "finish")
        .Build();

    /// <summary>Like <see cref="Listed"/>, for the test comparing a listed run with its status (kept out of the counted listings).</summary>
    public static readonly WorkflowDefinition<int, int> ListedFields = Flow.Create<int>("obs_listed_fields")
        .WaitForSignal<int>("wait_finish", "finish")
        .Build();

    /// <summary>Fails its first attempt, then succeeds (tracing and metrics tests).</summary>
    public static readonly WorkflowDefinition<int, int> Traced = Flow.Create<int>("obs_traced")
        .Then("first", (int x) => x + 1)
        .Then("flaky", (int x, TaskContext ctx) => ctx.Attempt == 1
            ? Task.FromException<int>(new TimeoutException("first attempt fails"))
            : Task.FromResult(x * 10), o => o.Retry = RetryPolicy.Fixed(3, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>A → B (first execution hangs until cancelled) → C, for the trace across a silo kill.</summary>
    public static readonly WorkflowDefinition<string, string> TracedStuckOnce = Flow.Create<string>("obs_traced_stuck")
        .Then("a", (string s) => s + "A")
        .Then("b", async (string s, TaskContext ctx) =>
        {
            var execution = Probe.Hit(ctx);
            Probe.Record(ctx, ((Orleans.Runtime.ILocalSiloDetails)ctx.Services.GetService(typeof(Orleans.Runtime.ILocalSiloDetails))!).SiloAddress.ToString());
            if (execution == 1) await Probe.HoldAsync(ctx);
            return s + "B";
        })
        .Then("c", (string s) => s + "C")
        .Build();

    /// <summary>Parks on signal "finish", then fails when the payload is negative (activity tests).</summary>
    public static readonly WorkflowDefinition<int, int> Activity = Flow.Create<int>("obs_activity")
        .WaitForSignal<int>("wait_finish", "finish")
        .Then("check", (int x) => x >= 0 ? x : throw new InvalidOperationException("negative payload"), o => o.Retry = RetryPolicy.None)
        .Build();

    public static IEnumerable<WorkflowDefinition> All => [Listed, ListedFields, Traced, TracedStuckOnce, Activity];
}
