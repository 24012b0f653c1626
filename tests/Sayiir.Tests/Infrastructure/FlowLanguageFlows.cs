namespace Sayiir.Tests.Infrastructure;

/// <summary>Test workflows of the flow language: forks, routes, loops, child flows, delays, signals.</summary>
public static class FlowLanguageFlows
{
    /// <summary>5 → fork (×2, +10) → join sums: 25.</summary>
    public static readonly WorkflowDefinition<int, int> ForkSum = Flow.Create<int>("lang_fork_sum")
        .Fork("split", f => f
            .Branch("double", b => b.Then("x2", (int x) => x * 2))
            .Branch("plus", b => b.Then("p10", (int x) => x + 10)))
        .Join("sum", (BranchResults r) => r.Get<int>("double") + r.Get<int>("plus"))
        .Build();

    /// <summary>Branch chains; no join: the output is the branch results.</summary>
    public static readonly WorkflowDefinition<int, BranchResults> ForkChains = Flow.Create<int>("lang_fork_chains")
        .Fork("split", f => f
            .Branch("left", b => b.Then("l1", (int x) => x + 1).Then("l2", (int x) => x * 3))
            .Branch("right", b => b.Then("r1", (int x) => x - 1).Then("r2", (int x) => $"r={x * 5}")))
        .Collect()
        .Build();

    /// <summary>Both branches wait at gates: they only finish if they run at the same time.</summary>
    public static readonly WorkflowDefinition<int, string> ForkConcurrent = Flow.Create<int>("lang_fork_concurrent")
        .Fork("split", f => f
            .Branch("one", b => b.Then("g1", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Probe.HoldAsync(ctx); return 1; }))
            .Branch("two", b => b.Then("g2", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Probe.HoldAsync(ctx); return 2; })))
        .Join("join", (BranchResults r) => $"{r.Get<int>("one")}+{r.Get<int>("two")}")
        .Build();

    /// <summary>One branch always fails after 2 attempts (with a 1 s timeout per attempt inside the branch).</summary>
    public static readonly WorkflowDefinition<int, int> ForkFails = Flow.Create<int>("lang_fork_fails")
        .Fork("split", f => f
            .Branch("fine", b => b.Then("ok", (int x) => x))
            .Branch("broken", b => b.Then<int>("slow_then_bad", async (int x, TaskContext ctx) =>
            {
                Probe.Hit(ctx);
                if (ctx.Attempt == 1) await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
                throw new InvalidOperationException("branch broke");
            }, o => { o.Timeout = TimeSpan.FromMilliseconds(300); o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(10)); })))
        .Join("join", (BranchResults r) => 0)
        .Build();

    /// <summary>Fork where branch "fast" finishes and branch "held" waits at a gate (for crash tests).</summary>
    public static readonly WorkflowDefinition<int, int> ForkHeld = Flow.Create<int>("lang_fork_held")
        .Fork("split", f => f
            .Branch("fast", b => b.Then("fast_task", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); }))
            .Branch("held", b => b.Then("held_task", async (int x, TaskContext ctx) =>
            {
                Probe.Hit(ctx);
                Probe.Record(ctx, ctx.Services.GetService(typeof(Orleans.Runtime.ILocalSiloDetails)) is Orleans.Runtime.ILocalSiloDetails d ? d.SiloAddress.ToString() : "");
                await Probe.HoldAsync(ctx);
                return x + 2;
            })))
        .Join("join", (BranchResults r) => r.Get<int>("fast") + r.Get<int>("held"))
        .Build();

    public sealed record Order(string Id, string Tier);

    // Declared before the flows that use it: static fields initialise in order.
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> SelectorCalls = new();


    /// <summary>Route by tier: "vip", "regular", default. The first "vip" attempt fails while the run's flag is set.</summary>
    public static readonly WorkflowDefinition<Order, string> RouteByTier = Flow.Create<Order>("lang_route")
        .Route<string>("tier", (Order o) => { SelectorCalls.AddOrUpdate(o.Id, 1, (_, n) => n + 1); return o.Tier; }, r => r
            .Branch("vip", b => b.Then("vip_task", (Order o, TaskContext ctx) =>
            {
                Probe.Hit(ctx);
                if (Probe.IsSet(ctx.InstanceId, "fail_vip")) throw new InvalidOperationException("vip desk closed");
                return Task.FromResult($"vip:{o.Id}");
            }))
            .Branch("regular", b => b.Then("regular_task", (Order o) => $"regular:{o.Id}"))
            .Default(b => b.Then("other_task", (Order o) => $"other:{o.Id}")))
        .Build();

    /// <summary>A route with no default branch.</summary>
    public static readonly WorkflowDefinition<string, string> RouteNoDefault = Flow.Create<string>("lang_route_no_default")
        .Route<string>("pick", (string s) => s, r => r.Branch("a", b => b.Then("a_task", (string s) => "A")))
        .Build();

    /// <summary>Counts down to zero: Again(x − 1) until 0, then Done(0).</summary>
    public static readonly WorkflowDefinition<int, int> Countdown = Flow.Create<int>("lang_countdown")
        .Loop("count", body => body.Then("step", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, x.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Task.FromResult(x > 0 ? LoopOutcome.Again(x - 1) : LoopOutcome.Done(x));
        }), maxIterations: 20)
        .Build();

    /// <summary>Never done: exits with the last value after 3 iterations.</summary>
    public static readonly WorkflowDefinition<int, int> ExitWithLast = Flow.Create<int>("lang_exit_with_last")
        .Loop("grow", body => body.Then("add", (int x) => LoopOutcome.Again(x + 10)), maxIterations: 3, onMaxIterations: LoopExhaustion.ExitWithLast)
        .Build();

    /// <summary>Never done: fails at the limit of 3.</summary>
    public static readonly WorkflowDefinition<int, int> LoopLimit = Flow.Create<int>("lang_loop_limit")
        .Loop("forever", body => body.Then("spin", (int x) => LoopOutcome.Again(x + 1)), maxIterations: 3)
        .Build();

    /// <summary>A loop whose 3rd iteration waits at a gate (crash tests): counts up to 5.</summary>
    public static readonly WorkflowDefinition<int, int> LoopHeld = Flow.Create<int>("lang_loop_held")
        .Loop("count", body => body
            .Then("prepare", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x); })
            .Then("step", async (int x, TaskContext ctx) =>
            {
                Probe.Hit(ctx);
                Probe.Record(ctx, $"{x}@{(ctx.Services.GetService(typeof(Orleans.Runtime.ILocalSiloDetails)) as Orleans.Runtime.ILocalSiloDetails)?.SiloAddress}");
                if (x == 3) await Probe.HoldAsync(ctx);
                return x >= 5 ? LoopOutcome.Done(x) : LoopOutcome.Again(x + 1);
            }))
        .Build();

    /// <summary>A loop inside a fork branch, and a fork inside a loop body.</summary>
    public static readonly WorkflowDefinition<int, int> LoopsAndForks = Flow.Create<int>("lang_loops_and_forks")
        .Fork("outer", f => f
            .Branch("looping", b => b.Loop("inner_loop", body => body.Then("halve", (int x) => x > 1 ? LoopOutcome.Again(x / 2) : LoopOutcome.Done(x))))
            .Branch("plain", b => b.Then("same", (int x) => x)))
        .Join("outer_join", (BranchResults r) => r.Get<int>("looping") + r.Get<int>("plain"))
        .Loop("forking_loop", body => body
            .Fork("inner_fork", f => f
                .Branch("inc", b => b.Then("inc_task", (int x) => x + 1))
                .Branch("dec", b => b.Then("dec_task", (int x) => x - 1)))
            .Join("inner_join", (BranchResults r) =>
            {
                var next = r.Get<int>("inc") + r.Get<int>("dec");
                return next >= 100 ? LoopOutcome.Done(next) : LoopOutcome.Again(next);
            }), maxIterations: 20)
        .Build();

    private static readonly WorkflowDefinition<int, int> Grandchild = Flow.Create<int>("lang_grandchild").Then("gc_inc", (int x) => x + 100).Build();

    private static readonly WorkflowDefinition<int, int> Child = Flow.Create<int>("lang_child")
        .Then("child_double", (int x) => x * 2)
        .ThenFlow(Grandchild)
        .Build();

    /// <summary>A child flow composed inline, itself composing a grandchild: 1 → +1 → (×2 → +100) → text.</summary>
    public static readonly WorkflowDefinition<int, string> WithChild = Flow.Create<int>("lang_with_child")
        .Then("parent_inc", (int x) => x + 1)
        .ThenFlow(Child)
        .Then("parent_text", (int x) => $"={x}")
        .Build();

    /// <summary>A → delay(input ms) → B.</summary>
    public static readonly WorkflowDefinition<int, string> Delayed = Flow.Create<int>("lang_delayed")
        .Then("before", (int ms) => ms)
        .Delay("nap", TimeSpan.FromSeconds(2))
        .Then("after", (int ms, TaskContext ctx) => { Probe.Record(ctx, "woke"); return Task.FromResult($"after {ms}"); })
        .Build();

    /// <summary>A delay as the last node: completes with its input.</summary>
    public static readonly WorkflowDefinition<string, string> DelayLast = Flow.Create<string>("lang_delay_last")
        .Then("upper", (string s) => s.ToUpperInvariant())
        .Delay("final_nap", TimeSpan.FromMilliseconds(200))
        .Build();

    public static readonly TimeSpan LongDelay = TimeSpan.FromSeconds(5);

    /// <summary>A 5 s delay (restart tests).</summary>
    public static readonly WorkflowDefinition<int, int> LongDelayed = Flow.Create<int>("lang_long_delay")
        .Then("start", (int x) => x)
        .Delay("long_nap", LongDelay)
        .Then("end", (int x, TaskContext ctx) => { Probe.Record(ctx, "woke"); return Task.FromResult(x + 1); })
        .Build();

    /// <summary>Waits for "approve" (no timeout); the payload becomes the next input.</summary>
    public static readonly WorkflowDefinition<string, string> Approval = Flow.Create<string>("lang_approval")
        .Then("request", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s); })
        .WaitForSignal<string>("wait_approval", "approve")
        .Then("decide", (string approver) => $"approved by {approver}")
        .Build();

    /// <summary>Two waits on the same signal name, to check FIFO order.</summary>
    public static readonly WorkflowDefinition<int, string> TwoSignals = Flow.Create<int>("lang_two_signals")
        .WaitForSignal<string>("first", "item")
        .Then("keep_first", (string s) => s)
        .WaitForSignal<string>("second", "item")
        .Then("both", (string s, TaskContext ctx) => Task.FromResult(s))
        .Build();

    /// <summary>Waits 300 ms for "go", else fails.</summary>
    public static readonly WorkflowDefinition<int, int> SignalTimeout = Flow.Create<int>("lang_signal_timeout")
        .WaitForSignal<int>("wait_go", "go", TimeSpan.FromMilliseconds(300))
        .Build();

    /// <summary>Waits 300 ms for "go", else continues with 42.</summary>
    public static readonly WorkflowDefinition<int, int> SignalDefault = Flow.Create<int>("lang_signal_default")
        .WaitForSignal("wait_go", "go", TimeSpan.FromMilliseconds(300), 42)
        .Then("plus_one", (int x) => x + 1)
        .Build();

    /// <summary>Waits up to 10 minutes for "go" (status tests).</summary>
    public static readonly WorkflowDefinition<int, int> SignalLong = Flow.Create<int>("lang_signal_long")
        .WaitForSignal<int>("wait_go", "go", TimeSpan.FromMinutes(10))
        .Build();

    /// <summary>Waits <see cref="LongDelay"/> for "go", else continues with 7 (restart tests).</summary>
    public static readonly WorkflowDefinition<int, int> SignalDefaultLong = Flow.Create<int>("lang_signal_default_long")
        .WaitForSignal("wait_go", "go", LongDelay, 7)
        .Then("after", (int x, TaskContext ctx) => { Probe.Record(ctx, "timed out"); return Task.FromResult(x * 10); })
        .Build();

    public static IEnumerable<WorkflowDefinition> All =>
    [
        ForkSum, ForkChains, ForkConcurrent, ForkFails, ForkHeld, RouteByTier, RouteNoDefault, Countdown, ExitWithLast, LoopLimit,
        LoopHeld, LoopsAndForks, WithChild, Delayed, DelayLast, LongDelayed, Approval, TwoSignals, SignalTimeout, SignalDefault, SignalLong, SignalDefaultLong,
    ];
}
