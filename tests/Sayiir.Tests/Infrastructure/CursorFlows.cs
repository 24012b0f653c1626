using Microsoft.Extensions.DependencyInjection;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// Long chains of the done-cursor tests (a run's stored state stays flat in its length). Every step adds 1 to its input
/// and counts its executions (<see cref="Probe"/>), so a run's output tells how many steps ran.
/// </summary>
public static class CursorFlows
{
    /// <summary>Where <see cref="LongChain"/> waits first (after this many steps) and its length in steps before its second wait.</summary>
    public const int HalfWay = 50;

    public const int Length = 300;

    /// <summary>s1 … s50 → wait "half" → s51 … s300 → wait "end" → last (the end signal's payload).</summary>
    public static readonly WorkflowDefinition<int, int> LongChain = Steps(Flow.Create<int>("cursor_long"), "s", 1, HalfWay)
        .WaitForSignal<int>("wait_half", "half")
        .Then("resume", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(HalfWay); })
        .Chain(b => Steps(b, "s", HalfWay + 1, Length))
        .WaitForSignal<int>("wait_end", "end")
        .Then("last", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x); })
        .Build();

    /// <summary>r1 … r30; r25 fails (no retries) while the run's "broken" flag is set.</summary>
    public static readonly WorkflowDefinition<int, int> Rewindable = Steps(Flow.Create<int>("cursor_rewind"), "r", 1, 24)
        .Then("r25", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            if (Probe.IsSet(ctx.InstanceId, "broken")) throw new InvalidOperationException("r25 has a bug");
            return Task.FromResult(x + 1);
        }, o => o.Retry = RetryPolicy.None)
        .Chain(b => Steps(b, "r", 26, 30))
        .Build();

    /// <summary>How many steps <see cref="Held"/> has, and the one held by the test (it records its silo).</summary>
    public const int HeldLength = 120;

    public const int HeldStep = 100;

    /// <summary>h1 … h120; h100 records its silo and waits until the test opens its gate.</summary>
    public static readonly WorkflowDefinition<int, int> Held = Steps(Flow.Create<int>("cursor_held"), "h", 1, HeldStep - 1)
        .Then($"h{HeldStep}", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
            try
            {
                await Probe.HoldAsync(ctx);
            }
            catch (OperationCanceledException)
            {
                // The silo is going away: this attempt is lost, the survivor runs the step again.
            }
            return x + 1;
        })
        .Chain(b => Steps(b, "h", HeldStep + 1, HeldLength))
        .Build();

    private const string VersionedName = "cursor_versioned";

    /// <summary>p1 … p12 → wait "go" → end_v1.</summary>
    public static readonly WorkflowDefinition<int, string> VersionedV1 = Steps(Flow.Create<int>(VersionedName, version: 1), "p", 1, 12)
        .WaitForSignal<string>("wait_go", "go")
        .Then("end_v1", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(go + "|v1"); })
        .Build();

    /// <summary>v1 with another last task and one more after it: a run parked on "go" can move to it.</summary>
    public static readonly WorkflowDefinition<int, string> VersionedV2 = Steps(Flow.Create<int>(VersionedName, version: 2), "p", 1, 12)
        .WaitForSignal<string>("wait_go", "go")
        .Then("end_v2", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(go + "|v2"); })
        .Then("extra", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "|extra"); })
        .Build();

    /// <summary>v1 with p3 and p4 swapped: steps a parked run finished long ago moved, so it cannot move to it.</summary>
    public static readonly WorkflowDefinition<int, string> VersionedV3 = Steps(Steps(Steps(Flow.Create<int>(VersionedName, version: 3), "p", 1, 2), "p", 4, 4), "p", 3, 3)
        .Chain(b => Steps(b, "p", 5, 12))
        .WaitForSignal<string>("wait_go", "go")
        .Then("end_v3", (string go, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(go + "|v3"); })
        .Build();

    /// <summary>The workflows every test cluster registers (the versioned ones are registered by their own tests).</summary>
    public static IEnumerable<WorkflowDefinition> All => [LongChain, Rewindable, Held];

    private static FlowBuilder<int, int> Steps(FlowBuilder<int, int> builder, string prefix, int first, int last)
    {
        for (var i = first; i <= last; i++)
            builder = builder.Then($"{prefix}{i}", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); });
        return builder;
    }

    private static FlowBuilder<int, int> Chain(this FlowBuilder<int, int> builder, Func<FlowBuilder<int, int>, FlowBuilder<int, int>> steps) => steps(builder);
}
