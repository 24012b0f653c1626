// The logging task logs the way applications do, with the ILogger extension methods (not source-generated messages).
#pragma warning disable CA1848, CA1873
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Sayiir.Dashboard.Tests;

/// <summary>The workflows the dashboard tests run.</summary>
public static class Workflows
{
    /// <summary>Set by the fixture: tasks advance it so that attempts have durations on the timeline.</summary>
    public static FakeTimeProvider? Clock { get; set; }

    /// <summary>Whether the "flaky" workflow's task fails (flipped by the resume test).</summary>
    public static bool FlakyFails { get => Volatile.Read(ref _flakyFails); set => Volatile.Write(ref _flakyFails, value); }

    private static bool _flakyFails = true;

    public const string Markup = "<script>window.__sayiirXss = 1</script><img src=x onerror=\"window.__sayiirXss = 2\"><b>bold</b>";

    private static void Work(int milliseconds) => Clock?.Advance(TimeSpan.FromMilliseconds(milliseconds));

    public static readonly WorkflowDefinition<int, string> Order = Flow.Create<int>("order")
        .Then("validate", (int amount) => { Work(40); return amount; })
        .Then("charge", (int amount) => { Work(120); return new Receipt(amount, "paid"); })
        .Then("ship", (Receipt receipt) => { Work(60); return $"shipped {receipt.Amount}"; })
        .Build();

    public static readonly WorkflowDefinition<string, string> Failing = Flow.Create<string>("failing")
        .Then("prepare", (string s) => s)
        .Then("pay", Pay)
        .Build();

    public static readonly WorkflowDefinition<string, string> Flaky = Flow.Create<string>("flaky")
        .Then("step", (string s) => FlakyFails ? throw new InvalidOperationException("flaky failure") : s + " ok")
        .Build();

    public static readonly WorkflowDefinition<string, string> MarkupOutput = Flow.Create<string>("markup")
        .Then("render", (string _) => Markup)
        .Build();

    /// <summary>Task "talk" writes two lines (the second a warning with an exception) through its logger.</summary>
    public static readonly WorkflowDefinition<string, string> Logged = Flow.Create<string>("logged")
        .Then("prepare", (string s) => s)
        .Then("talk", (string s, TaskContext ctx) =>
        {
            ctx.Logger.LogInformation("looking up customer {Customer}", s);
            ctx.Logger.LogWarning(new InvalidOperationException("cache <b>miss</b>"), "customer {Customer} not cached", s);
            return Task.FromResult(s + " talked");
        })
        .Build();

    /// <summary>A task, a fork of two branches (one of two steps) and a join: 5 → (5 + 1) + (5 × 2 × 3) = 36.</summary>
    public static readonly WorkflowDefinition<int, int> Forked = Flow.Create<int>("forked")
        .Then("start", (int x) => x)
        .Fork("split", f => f
            .Branch("left", b => b.Then("l1", (int x) => x + 1))
            .Branch("right", b => b.Then("r1", (int x) => x * 2).Then("r2", (int x) => x * 3)))
        .Join("merge", (BranchResults r) => r.Get<int>("left") + r.Get<int>("right"))
        .Build();

    /// <summary>A route (input 3 takes "small"), a countdown loop, then a delay of a day (nothing advances the clock that far).</summary>
    public static readonly WorkflowDefinition<int, string> Shapes = Flow.Create<int>("shapes")
        .Route<int>("size", (int x) => x > 10 ? "big" : "small", r => r
            .Branch("big", b => b.Then("big_task", (int x) => x))
            .Branch("small", b => b.Then("small_task", (int x) => x))
            .Default(b => b.Then("other_task", (int x) => x)))
        .Loop("count", body => body.Then("tick", (int x) => x > 0 ? LoopOutcome.Again(x - 1) : LoopOutcome.Done(x)), maxIterations: 20)
        .Delay("nap", TimeSpan.FromDays(1))
        .Then("after", (int x) => $"after {x}")
        .Build();

    public static WorkflowDefinition<string, string> Approval(string version, string firstStep = "prepare") =>
        Flow.Create<string>("approval", version)
            .Then(firstStep, (string s) => s)
            .WaitForSignal<Decision>("approve", "decision")
            .Then("finish", (Decision d) => d.Approved ? $"approved by {d.By}" : "rejected")
            .Build();

    /// <summary>Undo steps of the "booking" workflow that ran, by instance id.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Unbooked = new();

    // A compensable booking, then a wait: cancelling it with compensation undoes the booking.
    public static readonly WorkflowDefinition<string, string> Booking = Flow.Create<string>("booking")
        .Then("book", (string s, TaskContext ctx) => Task.FromResult($"booked {s}"),
            (string s, string booked, TaskContext ctx) => { Unbooked.AddOrUpdate(ctx.InstanceId, 1, (_, n) => n + 1); return Task.CompletedTask; })
        .WaitForSignal<Decision>("confirm", "decision")
        .Then("finish", (Decision d) => d.By)
        .Build();

    private static string Pay(string input) =>
        throw new InvalidOperationException("payment declined", new TimeoutException($"gateway timed out for {input.Length}"));

    public static IEnumerable<WorkflowDefinition> All =>
        [Order, Failing, Flaky, MarkupOutput, Logged, Forked, Shapes, Approval("1"), Approval("2"), Approval("3", firstStep: "prepare_v3"), Booking];
}

public sealed record Receipt(int Amount, string Status);

public sealed record Decision(bool Approved, string By);
