using Microsoft.Extensions.DependencyInjection;

namespace Sayiir.Tests.Infrastructure;

/// <summary>The workflows the engine tests run. Every test cluster registers all of them.</summary>
public static class TestFlows
{
    // Declared first: static fields initialise in order, and SlowBackoff reads it.
    public static readonly TimeSpan BackoffDelay = TimeSpan.FromSeconds(6);

    /// <summary>5 → +1 → ×2 → "12".</summary>
    public static readonly WorkflowDefinition<int, string> Linear = Flow.Create<int>("test_linear")
        .Then("add_one", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x + 1); })
        .Then("double", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(x * 2); })
        .Then("to_text", (int x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Build();

    /// <summary>The seed's A/B/C: B fails while the run's "fail_b" flag is set.</summary>
    public static readonly WorkflowDefinition<string, string> Abc = Flow.Create<string>("test_abc")
        .Then("a", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "A"); })
        .Then("b", (string s, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            if (Probe.IsSet(ctx.InstanceId, "fail_b")) throw new InvalidOperationException("B crashed");
            return Task.FromResult(s + "B");
        })
        .Then("c", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "C"); })
        .Build();

    /// <summary>Always fails; three attempts, 10 ms apart.</summary>
    public static readonly WorkflowDefinition<int, int> AlwaysFails = Flow.Create<int>("test_always_fails")
        .Then("doomed", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromException<int>(new InvalidOperationException($"boom on attempt {ctx.Attempt}"));
        }, o => o.Retry = RetryPolicy.Fixed(3, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>Fails attempts 1 and 2; backoff 300 ms × 50 per attempt, capped at 600 ms.</summary>
    public static readonly WorkflowDefinition<int, int> CappedBackoff = Flow.Create<int>("test_capped_backoff")
        .Then("capped", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, "attempt");
            return ctx.Attempt < 3 ? Task.FromException<int>(new TimeoutException($"attempt {ctx.Attempt} fails")) : Task.FromResult(ctx.Attempt);
        }, o => o.Retry = RetryPolicy.Exponential(3, TimeSpan.FromMilliseconds(300), multiplier: 50, maxDelay: TimeSpan.FromMilliseconds(600)))
        .Build();

    /// <summary>Reports what its task sees in its context.</summary>
    public static readonly WorkflowDefinition<int, string> ContextEcho = Flow.Create<int>("test_context_echo")
        .Then("echo", (int x, TaskContext ctx) => Task.FromResult(
            $"{ctx.WorkflowName}|{ctx.InstanceId}|{ctx.TaskId}|{ctx.Attempt}|{ctx.Metadata.GetValueOrDefault("tenant", "none")}|{x}"))
        .Build();

    /// <summary>Five attempts allowed, but an ArgumentException is declared non-retryable and attempt 1 throws one.</summary>
    public static readonly WorkflowDefinition<int, int> NonRetryable = Flow.Create<int>("test_non_retryable")
        .Then("validate", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromException<int>(new ArgumentException($"bad input {x}"));
        }, o => o.Retry = RetryPolicy.Fixed(5, TimeSpan.FromMilliseconds(10)).WithNonRetryable<ArgumentException>())
        .Build();

    /// <summary>Fails until attempt number == input, then returns the attempt number; up to 5 attempts.</summary>
    public static readonly WorkflowDefinition<int, int> SucceedsOnAttempt = Flow.Create<int>("test_succeeds_on_attempt")
        .Then("flaky", (int succeedOn, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return ctx.Attempt < succeedOn
                ? Task.FromException<int>(new TimeoutException($"transient failure {ctx.Attempt}"))
                : Task.FromResult(ctx.Attempt);
        }, o => o.Retry = RetryPolicy.Exponential(5, TimeSpan.FromMilliseconds(5)))
        .Build();

    /// <summary>Attempt 1 hangs past its 300 ms timeout (recording whether its token fired); attempt 2 answers.</summary>
    public static readonly WorkflowDefinition<int, string> TimesOutOnce = Flow.Create<int>("test_times_out_once")
        .Then("slow", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            if (ctx.Attempt == 1)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Probe.Record(ctx, "token fired");
                    throw;
                }
            }
            return $"attempt {ctx.Attempt}";
        }, o => { o.Timeout = TimeSpan.FromMilliseconds(300); o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(10)); })
        .Build();

    /// <summary>Every attempt hangs past its 200 ms timeout; two attempts.</summary>
    public static readonly WorkflowDefinition<int, int> AlwaysTimesOut = Flow.Create<int>("test_always_times_out")
        .Then("stuck", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return x;
        }, o => { o.Timeout = TimeSpan.FromMilliseconds(200); o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(10)); })
        .Build();

    /// <summary>Fails at once with an exception wrapping an <see cref="System.IO.IOException"/>.</summary>
    public static readonly WorkflowDefinition<int, int> WrappedFailure = Flow.Create<int>("test_wrapped_failure")
        .Then("wrapper", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromException<int>(new InvalidOperationException("outer", new System.IO.IOException("inner")));
        }, o => o.Retry = RetryPolicy.None)
        .Build();

    /// <summary>Attempt 1 fails, then a 6 s durable backoff before attempt 2. Records the silo each attempt ran on.</summary>
    public static readonly WorkflowDefinition<int, int> SlowBackoff = Flow.Create<int>("test_slow_backoff")
        .Then("flaky", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
            return ctx.Attempt == 1 ? Task.FromException<int>(new TimeoutException("first attempt fails")) : Task.FromResult(ctx.Attempt);
        }, o => o.Retry = RetryPolicy.Fixed(3, BackoffDelay))
        .Build();

    /// <summary>A → B (held at a gate until the test opens it) → C. Records the silo B runs on and whether its token fired.</summary>
    public static readonly WorkflowDefinition<string, string> Held = HeldFlow("test_held");

    /// <summary><see cref="Held"/> under a name of its own, so a test can single out its runs' metrics.</summary>
    public static readonly WorkflowDefinition<string, string> HandoffHeld = HeldFlow("test_handoff");

    private static WorkflowDefinition<string, string> HeldFlow(string name) => Flow.Create<string>(name)
        .Then("a", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "A"); })
        .Then("b", async (string s, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
            try
            {
                await Probe.HoldAsync(ctx);
            }
            catch (OperationCanceledException)
            {
                Probe.Record(ctx, "token fired");
                throw;
            }
            return s + "B";
        })
        .Then("c", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "C"); })
        .Build();

    /// <summary>A → B (its first execution hangs until cancelled; later ones pass) → C. B and C record their silo.</summary>
    public static readonly WorkflowDefinition<string, string> StuckOnce = Flow.Create<string>("test_stuck_once")
        .Then("a", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "A"); })
        .Then("b", async (string s, TaskContext ctx) =>
        {
            var execution = Probe.Hit(ctx);
            Probe.Record(ctx, ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
            if (execution == 1) await Probe.HoldAsync(ctx);
            return s + "B";
        })
        .Then("c", (string s, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
            return Task.FromResult(s + "C");
        })
        .Build();

    /// <summary>One task that takes the input's milliseconds, to outlive a lowered response timeout.</summary>
    public static readonly WorkflowDefinition<int, string> Sleeper = Flow.Create<int>("test_sleeper")
        .Then("sleep", async (int ms, TaskContext ctx) => { await Task.Delay(ms, ctx.CancellationToken); return $"slept {ms} ms"; })
        .Build();

    /// <summary>Returns a value System.Text.Json cannot serialize (its property throws), with retries allowed.</summary>
    public static readonly WorkflowDefinition<int, Unserializable> BadOutput = Flow.Create<int>("test_bad_output")
        .Then("ok", (int x) => x)
        .Then("bad", (int x, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(new Unserializable()); },
            o => o.Retry = RetryPolicy.Fixed(3, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>A class task resolved from DI.</summary>
    public static readonly WorkflowDefinition<string, string> WithService = Flow.Create<string>("test_with_service")
        .Then<GreetTask, string>("greet")
        .Build();

    /// <summary>Task "render" returns its input, or "big:N" as N characters; then waits for signal "more" (payload-limit tests).</summary>
    public static readonly WorkflowDefinition<string, string> Sized = Flow.Create<string>("test_sized")
        .Then("render", (string s) => s.StartsWith("big:", StringComparison.Ordinal) ? new string('x', int.Parse(s[4..], System.Globalization.CultureInfo.InvariantCulture)) : s)
        .WaitForSignal<string>("wait_more", "more")
        .Build();

    public static IEnumerable<WorkflowDefinition> All =>
        [Sized, Linear, Abc, AlwaysFails, NonRetryable, ContextEcho, CappedBackoff, SucceedsOnAttempt, TimesOutOnce, AlwaysTimesOut, WrappedFailure, SlowBackoff, Held, HandoffHeld, StuckOnce, Sleeper, BadOutput, WithService];
}

public sealed class Unserializable
{
    public int Value => throw new NotSupportedException("this value refuses to be serialized");
}

public interface IGreeter
{
    string Greet(string name);
}

public sealed class Greeter : IGreeter
{
    public string Greet(string name) => $"Hello, {name}!";
}

public sealed class GreetTask(IGreeter greeter) : IWorkflowTask<string, string>
{
    public Task<string> ExecuteAsync(string input, TaskContext context) => Task.FromResult($"{greeter.Greet(input)} (attempt {context.Attempt} of {context.TaskId})");
}

/// <summary>Workflows of the storage-fault tests.</summary>
public static class FaultFlows
{
    /// <summary>Five steps of 150 ms each, adding 1 each: output = input + 5.</summary>
    public static readonly WorkflowDefinition<int, int> Steady = Flow.Create<int>("fault_steady")
        .Then("s1", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Task.Delay(150, ctx.CancellationToken); Probe.Record(ctx, "end"); return x + 1; })
        .Then("s2", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Task.Delay(150, ctx.CancellationToken); Probe.Record(ctx, "end"); return x + 1; })
        .Then("s3", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Task.Delay(150, ctx.CancellationToken); Probe.Record(ctx, "end"); return x + 1; })
        .Then("s4", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Task.Delay(150, ctx.CancellationToken); Probe.Record(ctx, "end"); return x + 1; })
        .Then("s5", async (int x, TaskContext ctx) => { Probe.Hit(ctx); await Task.Delay(150, ctx.CancellationToken); Probe.Record(ctx, "end"); return x + 1; })
        .Build();
}
